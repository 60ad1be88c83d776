// The real Gmail adapter: InboxSDK, with its telemetry off. The only module touching Gmail.

import * as InboxSDK from "@inboxsdk/core";
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

function wrapCompose(view) {
  const contacts = () => [...view.getToRecipients(), ...view.getCcRecipients(), ...view.getBccRecipients()];
  return {
    recipients: () => contacts().map((c) => ({ email: c.emailAddress, name: c.name || "" })),
    subject: () => view.getSubject(),
    html: () => view.getHTMLContent(),
    setHtml: (html) => view.setBodyHTML(html),
    send: () => view.send(),
    statusBar: () => view.addStatusBar({ height: 28 }).el,
    onPresending: (cb) => view.on("presending", (event) => cb({ cancel: () => event.cancel() })),
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
  };
}
