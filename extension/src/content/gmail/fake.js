// The test adapter: the same interface over a saved Gmail-like page (tests/extension/pages/),
// selected by the test build. Its markup names each part with a data-lc-* attribute.

import { rowDescriptors } from "./row-receipt.js";

const SEND_URL = "/mail/u/0/fake-send";

function fakeCompose(root) {
  const presending = [];
  const sent = [];
  const field = (name) => root.querySelector(`[name="${name}"]`)?.value || "";
  const body = root.querySelector("[data-lc-body]");
  const addresses = (name) =>
    field(name).split(",").map((s) => s.trim()).filter(Boolean).map((email) => ({ email, name: "" }));
  async function deliver() {
    const message = {
      to: addresses("to"), cc: addresses("cc"), subject: field("subject"), html: body.innerHTML,
    };
    const response = await fetch(SEND_URL, { method: "POST", body: JSON.stringify(message) });
    const ids = await response.json();
    root.dataset.lcState = "sent";
    for (const cb of sent) cb({ messageId: ids.messageId, threadId: ids.threadId });
  }
  function send() {
    let cancelled = false;
    for (const cb of presending) cb({ cancel: () => { cancelled = true; } });
    if (!cancelled) deliver();
  }
  root.querySelector("[data-lc-send]").addEventListener("click", send);
  return {
    recipients: () => [...addresses("to"), ...addresses("cc"), ...addresses("bcc")],
    subject: () => field("subject"),
    html: () => body.innerHTML,
    setHtml: (html) => { body.innerHTML = html; },
    send,
    statusBar: () => root.appendChild(document.createElement("div")),
    onPresending: (cb) => presending.push(cb),
    onSent: (cb) => sent.push(cb),
  };
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
    onCompose: each("[data-lc-compose]", fakeCompose),
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
