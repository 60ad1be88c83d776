// The test adapter: the same interface over a saved Gmail-like page (tests/extension/pages/),
// selected by the test build. Its markup names each part with a data-lc-* attribute.

import { onCompose } from "./fake-compose.js";
import { linkHrefs } from "./message-body.js";
import { rowDescriptors } from "./row-receipt.js";

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
      receipt.dataset.state = d.state || "";
    },
    onDestroy: () => {},
  };
}

function fakeMessage(message) {
  return {
    imageSources: () =>
      [...message.querySelectorAll("[data-lc-message-body] img")].map((img) => img.getAttribute("src") || ""),
    linkHrefs: () => linkHrefs(message.querySelector("[data-lc-message-body]")),
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
    banner(shown) {
      document.querySelector("[data-lc-banner]")?.remove();
      // Said either way, so a test can tell "no banner" from "not decided yet".
      document.documentElement.dataset.lcBannerChecked = "true";
      if (!shown) return;
      const { text, action, url } = shown;
      const banner = Object.assign(document.createElement("div"), { role: "alert" });
      banner.dataset.lcBanner = "";
      const link = Object.assign(document.createElement("a"), { href: url, target: "_blank", rel: "noopener" });
      link.textContent = action;
      banner.append(Object.assign(document.createElement("p"), { textContent: text }), link);
      document.body.prepend(banner);
    },
    notify(text) {
      const bar = document.querySelector("[data-lc-butterbar]");
      bar.append(Object.assign(document.createElement("p"), { textContent: text }));
    },
  };
}
