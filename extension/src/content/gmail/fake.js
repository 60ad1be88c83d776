// The test adapter: the same interface over a saved Gmail-like page (tests/extension/pages/),
// selected by the test build. Its markup names each part with a data-lc-* attribute.

import { rowDescriptors } from "./row-receipt.js";

const SEND_URL = "/mail/u/0/fake-send";

/** Gmail's undo window for the page (ms; none when unset): a test sets it on <html>. */
const undoWindow = () => Number(document.documentElement.dataset.lcUndoMs || 0);

/** Wait out the undo window; true when the rep pressed Undo in it. */
function undone(root, signal) {
  const button = root.querySelector("[data-lc-undo]");
  button.hidden = false;
  return new Promise((resolve) => {
    const timer = setTimeout(() => { button.hidden = true; resolve(false); }, undoWindow());
    button.addEventListener("click", () => {
      clearTimeout(timer);
      button.hidden = true;
      resolve(true);
    }, { once: true, signal });
  });
}

/** One compose view over the form. Undo ends it and opens a new one over the same draft, as Gmail
 * (and InboxSDK, with a new ComposeView) does. */
function fakeCompose(root, reopen) {
  const on = { presending: [], sent: [], sendCanceled: [], scheduleMenu: [], discard: [], destroy: [] };
  const live = new AbortController();
  const signal = live.signal;
  const field = (name) => root.querySelector(`[name="${name}"]`)?.value || "";
  const body = root.querySelector("[data-lc-body]");
  const addresses = (name) =>
    field(name).split(",").map((s) => s.trim()).filter(Boolean).map((email) => ({ email, name: "" }));
  const emit = (name, value) => { for (const cb of on[name]) cb(value); };
  async function deliver(archive) {
    if (undoWindow() && (await undone(root, signal))) {
      live.abort();
      reopen();
      return;
    }
    const message = {
      to: addresses("to"), cc: addresses("cc"), subject: field("subject"), html: body.innerHTML, archive,
    };
    const response = await fetch(SEND_URL, { method: "POST", body: JSON.stringify(message) });
    // Gmail's "could not send" error: the compose window stays, InboxSDK says sendCanceled.
    if (!response.ok) return emit("sendCanceled");
    const ids = await response.json();
    root.dataset.lcState = archive ? "sent-archived" : "sent";
    emit("sent", { messageId: ids.messageId, threadId: ids.threadId });
  }
  function send({ archive = false } = {}) {
    let cancelled = false;
    emit("presending", { archive, cancel: () => { cancelled = true; } });
    // InboxSDK's cancel() is followed by a sendCanceled event, as on the real page.
    if (cancelled) queueMicrotask(() => emit("sendCanceled"));
    else deliver(archive);
  }
  const menu = root.querySelector("[data-lc-schedule-menu]");
  function close(state) {
    root.dataset.lcState = state;
    emit("destroy");
    live.abort();
  }
  async function schedule() {
    menu.hidden = true;
    const message = { to: addresses("to"), subject: field("subject"), html: body.innerHTML, scheduled: true };
    await fetch(SEND_URL, { method: "POST", body: JSON.stringify(message) });
    // Gmail files it under Scheduled and closes the window; InboxSDK says nothing was sent.
    close("scheduled");
  }
  function openMenu() {
    let cancelled = false;
    emit("scheduleMenu", { cancel: () => { cancelled = true; } });
    if (!cancelled) menu.hidden = false;
  }
  const click = (selector, handler) => root.querySelector(selector).addEventListener("click", handler, { signal });
  click("[data-lc-send]", () => send());
  click("[data-lc-send-archive]", () => send({ archive: true }));
  click("[data-lc-schedule]", openMenu);
  click("[data-lc-schedule-at]", schedule);
  click("[data-lc-discard]", () => {
    emit("discard", { cancel() {} });
    close("discarded");
  });
  root.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") send();
  }, { signal });
  return {
    recipients: () => [...addresses("to"), ...addresses("cc"), ...addresses("bcc")],
    subject: () => field("subject"),
    html: () => body.innerHTML,
    setHtml: (html) => { body.innerHTML = html; },
    send,
    statusBar() {
      const bar = root.appendChild(document.createElement("div"));
      signal.addEventListener("abort", () => bar.remove());
      return bar;
    },
    onPresending: (cb) => on.presending.push(cb),
    onSent: (cb) => on.sent.push(cb),
    onSendCanceled: (cb) => on.sendCanceled.push(cb),
    onScheduleMenu: (cb) => on.scheduleMenu.push(cb),
    // InboxSDK reopens the menu with a click that is not the rep's: no scheduleSendMenuOpening.
    openScheduleMenu: () => { menu.hidden = false; },
    onDiscard: (cb) => on.discard.push(cb),
    onDestroy: (cb) => on.destroy.push(cb),
  };
}

/** Each compose form as a compose view, and again (a new view) whenever Undo reopens it. */
function onCompose(handler) {
  for (const root of document.querySelectorAll("[data-lc-compose]")) {
    const open = () => handler(fakeCompose(root, open));
    open();
  }
}

function fakeRow(row) {
  const receipt = row.querySelector("[data-lc-receipt]");
  return {
    threadId: async () => row.dataset.threadId,
    setReceipt(r) {
      // Drawn from the descriptors the InboxSDK adapter hands Gmail: the labels' titles, and the
      // icon's tooltip as the title.
      const d = rowDescriptors(r, "");
      receipt.textContent = [d.label, d.machine].filter(Boolean).map((l) => l.title).join(" ");
      receipt.title = d.icon ? d.icon.tooltip : "";
    },
    onDestroy: () => {},
  };
}

function fakeMessage(message) {
  return {
    imageSources: () =>
      [...message.querySelectorAll("[data-lc-message-body] img")].map((img) => img.getAttribute("src") || ""),
    fromMe: () => message.dataset.from === document.documentElement.dataset.lcUser,
    addPanel: (panel) => message.append(panel),
  };
}

function fakeThread(thread) {
  return {
    threadId: async () => thread.dataset.threadId,
    participants() {
      const emails = new Set();
      for (const m of thread.querySelectorAll("[data-lc-message]")) {
        emails.add(m.dataset.from);
        for (const to of (m.dataset.to || "").split(",")) if (to.trim()) emails.add(to.trim());
      }
      return [...emails];
    },
    addSidebar(panel, title) {
      const sidebar = document.querySelector("[data-lc-sidebar]");
      sidebar.setAttribute("aria-label", title);
      sidebar.append(panel);
    },
  };
}

const each = (selector, wrap) => (handler) => {
  for (const node of document.querySelectorAll(selector)) handler(wrap(node));
};

/** The fake adapter over the current page. */
export async function loadAdapter() {
  return {
    userEmail: () => document.documentElement.dataset.lcUser,
    onCompose,
    onThreadRow: each("[data-lc-row]", fakeRow),
    onMessageView: each("[data-lc-message]", fakeMessage),
    onThreadView: each("[data-lc-thread]", fakeThread),
    ready: () => { document.documentElement.dataset.lcReady = "true"; },
    notify(text) {
      const bar = document.querySelector("[data-lc-butterbar]");
      bar.append(Object.assign(document.createElement("p"), { textContent: text }));
    },
  };
}
