// The real Gmail adapter: InboxSDK, with its telemetry off. The only module touching Gmail.

import * as InboxSDK from "@inboxsdk/core";
import { linkHrefs } from "./message-body.js";
import { rowDescriptors } from "./row-receipt.js";

/** A minimal Kefir-compatible stream (onAny/offAny) so InboxSDK labels can be updated. */
function updatable() {
  const listeners = new Set();
  let last = null;
  return {
    onAny(fn) {
      listeners.add(fn);
      if (last) fn({ type: "value", value: last });
    },
    offAny(fn) {
      listeners.delete(fn);
    },
    emit(value) {
      last = value;
      for (const fn of listeners) fn({ type: "value", value });
    },
  };
}

// Gmail's Send+Archive button in a reply, as InboxSDK's own getSendAndArchiveButton finds it.
const SEND_AND_ARCHIVE = ".IZ .Up div > div[role=button].Uo:not([aria-haspopup=true])";

/** Whether each send gesture in the compose view is a Send+Archive: presending does not say, so
 * the click or key is seen first, on the document (InboxSDK listens on the compose element). */
function archiveGestures(view) {
  const seen = { archive: false };
  const note = (event) => {
    if (!view.getElement().contains(event.target)) return;
    seen.archive = Boolean(event.target.closest?.(SEND_AND_ARCHIVE));
  };
  for (const type of ["click", "keydown"]) document.addEventListener(type, note, true);
  view.on("destroy", () => {
    for (const type of ["click", "keydown"]) document.removeEventListener(type, note, true);
  });
  return seen;
}

function wrapCompose(view) {
  const gesture = archiveGestures(view);
  const contacts = () => [...view.getToRecipients(), ...view.getCcRecipients(), ...view.getBccRecipients()];
  return {
    recipients: () => contacts().map((c) => ({ email: c.emailAddress, name: c.name || "" })),
    subject: () => view.getSubject(),
    html: () => view.getHTMLContent(),
    setHtml: (html) => view.setBodyHTML(html),
    send: ({ archive = false } = {}) => view.send({ sendAndArchive: archive }),
    statusBar: () => view.addStatusBar({ height: 28 }).el,
    onPresending: (cb) =>
      view.on("presending", (event) => cb({ archive: gesture.archive, cancel: () => event.cancel() })),
    onSendCanceled: (cb) => view.on("sendCanceled", () => cb()),
    // Schedule send: the menu opening can be held (cancel) and reopened once the body is tracked;
    // InboxSDK's reopening click is not trusted, so it raises no second event.
    onScheduleMenu: (cb) => view.on("scheduleSendMenuOpening", (event) => cb({ cancel: () => event.cancel() })),
    openScheduleMenu: () => view.openScheduleSendMenu(),
    onDiscard: (cb) => view.on("discard", () => cb()),
    onDestroy: (cb) => view.on("destroy", () => cb()),
    onSent: (cb) =>
      view.on("sent", async (event) => {
        cb({ messageId: await event.getMessageID(), threadId: await event.getThreadID() });
      }),
  };
}

function wrapRow(row) {
  const label = updatable();
  const machine = updatable();
  const icon = updatable();
  row.addLabel(label);
  row.addLabel(machine);
  row.addAttachmentIcon(icon);
  return {
    threadId: () => row.getThreadIDAsync(),
    setReceipt(r) {
      const d = rowDescriptors(r, chrome.runtime.getURL("icon128.png"));
      label.emit(d.label);
      machine.emit(d.machine);
      icon.emit(d.icon);
    },
    onDestroy: (cb) => row.on("destroy", cb),
  };
}

/** The `src` of each image in a message body ("" for one without). */
function imageSources(body) {
  return [...body.querySelectorAll("img")].map((img) => img.getAttribute("src") || "");
}

function wrapMessage(view, sdk) {
  return {
    imageSources: () => imageSources(view.getBodyElement()),
    linkHrefs: () => linkHrefs(view.getBodyElement()),
    fromMe: () => view.getSender().emailAddress.toLowerCase() === sdk.User.getEmailAddress().toLowerCase(),
    addPanel(panel) {
      view.getBodyElement().after(panel);
    },
  };
}

function wrapThread(view) {
  return {
    threadId: () => view.getThreadIDAsync(),
    participants() {
      const emails = new Set();
      for (const message of view.getMessageViewsAll()) {
        if (!message.isLoaded()) continue;
        emails.add(message.getSender().emailAddress);
        for (const address of message.getRecipientEmailAddresses()) emails.add(address);
      }
      return [...emails];
    },
    addSidebar(panel, title) {
      view.addSidebarContentPanel({ title, iconUrl: chrome.runtime.getURL("icon128.png"), el: panel });
    },
  };
}

/** The banner's element: the words, a link opening the page to act on, and a close button. */
function bannerElement({ text, action, url }, close) {
  const el = document.createElement("div");
  el.setAttribute("role", "alert");
  el.style.cssText =
    "display:flex;gap:16px;align-items:center;padding:8px 16px;background:#fce8e6;color:#202124;font:14px/1.4 sans-serif";
  const words = document.createElement("span");
  words.textContent = text;
  const link = Object.assign(document.createElement("a"), { href: url, target: "_blank", rel: "noopener" });
  link.textContent = action;
  link.style.cssText = "font-weight:bold;color:#1a73e8;white-space:nowrap";
  const dismiss = Object.assign(document.createElement("button"), { type: "button", textContent: "×", title: "Close" });
  dismiss.setAttribute("aria-label", "Close");
  dismiss.addEventListener("click", close);
  el.append(words, link, dismiss);
  return el;
}

/** Show or (null) remove the banner: InboxSDK's top message bar, which stays until closed. Not a
 * butter bar: InboxSDK ends those after 2 minutes and reports that as an error to its servers. */
function banners(sdk) {
  let shown = null;
  const remove = () => {
    shown?.remove();
    shown = null;
  };
  return (banner) => {
    remove();
    if (banner) shown = sdk.Widgets.showTopMessageBarView({ el: bannerElement(banner, remove) });
  };
}

/** Load InboxSDK (the worker injects its page-world script) and expose what the features use. */
export async function loadAdapter({ appId }) {
  const sdk = await InboxSDK.load(2, appId, {
    appName: "Leadcamp",
    eventTracking: false, // no usage events to InboxSDK's servers
    globalErrorLogging: false, // no page-wide error capture or reporting
  });
  return {
    userEmail: () => sdk.User.getEmailAddress(),
    onCompose: (handler) => sdk.Compose.registerComposeViewHandler((v) => handler(wrapCompose(v))),
    onThreadRow: (handler) => sdk.Lists.registerThreadRowViewHandler((r) => handler(wrapRow(r))),
    onMessageView: (handler) =>
      sdk.Conversations.registerMessageViewHandler((v) => handler(wrapMessage(v, sdk))),
    onThreadView: (handler) => sdk.Conversations.registerThreadViewHandler((v) => handler(wrapThread(v))),
    ready: () => {},
    notify: (text) => sdk.ButterBar.showMessage({ text, time: 10000 }),
    banner: banners(sdk),
  };
}
