import assert from "node:assert/strict";
import { test } from "node:test";

import { build } from "esbuild";

import { receipt } from "../src/shared/status.js";

const UTC = { locale: "en-GB", timeZone: "UTC" };

// A stand-in for InboxSDK's entry point: recording what the adapter registers.
const handlers = {};
globalThis.stubInboxSDK = {
  User: { getEmailAddress: () => "rep@acme.test" },
  Lists: { registerThreadRowViewHandler: (h) => { handlers.threadRow = h; } },
  Compose: { registerComposeViewHandler: (h) => { handlers.compose = h; } },
  Conversations: { registerMessageViewHandler() {}, registerThreadViewHandler() {} },
  ButterBar: { showMessage() {} },
  Widgets: {
    showTopMessageBarView({ el }) {
      const bar = { el, removed: false, remove() { bar.removed = true; } };
      topBars.push(bar);
      return bar;
    },
  },
};
const topBars = [];
const STUB = "export async function load() { return globalThis.stubInboxSDK; }";

/** The real InboxSDK adapter, bundled with @inboxsdk/core replaced by the stand-in. */
async function loadRealAdapter() {
  const out = await build({
    entryPoints: [new URL("../src/content/gmail/inboxsdk.js", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    write: false,
    logLevel: "silent",
    plugins: [{
      name: "stub-sdk",
      setup(b) {
        b.onResolve({ filter: /^@inboxsdk\/core$/ }, () => ({ path: "inboxsdk", namespace: "stub" }));
        b.onLoad({ filter: /.*/, namespace: "stub" }, () => ({ contents: STUB, loader: "js" }));
      },
    }],
  });
  const code = Buffer.from(out.outputFiles[0].text).toString("base64");
  return import(`data:text/javascript;base64,${code}`);
}

/** A thread row as InboxSDK hands it over, recording the label and icon streams added to it. */
function sdkRow() {
  const streams = { labels: [], icons: [] };
  const latest = (stream) => {
    let value = null;
    const listen = (event) => { value = event.value; };
    stream.onAny(listen);
    stream.offAny(listen);
    return value;
  };
  return {
    shown: () => ({ labels: streams.labels.map(latest), icons: streams.icons.map(latest) }),
    addLabel: (s) => streams.labels.push(s),
    addAttachmentIcon: (s) => streams.icons.push(s),
    getThreadIDAsync: async () => "t1",
    on() {},
  };
}

test("a thread row in real Gmail shows the receipt and its full text as a tooltip", async () => {
  globalThis.chrome = { runtime: { getURL: (path) => `chrome-extension://abc/${path}` } };
  const { loadAdapter } = await loadRealAdapter();
  const adapter = await loadAdapter({ appId: "sdk_test" });
  let row;
  adapter.onThreadRow((r) => { row = r; });
  const sdk = sdkRow();
  handlers.threadRow(sdk);

  const message = {
    opens: 3, clicks: 2, replies: 1, last_open_at: "2026-11-25T14:03:00Z", counts: { scanner: 1 },
  };
  const now = Date.parse("2026-11-25T14:08:00Z");
  row.setReceipt(receipt([message], { ...UTC, now }));
  const { labels, icons } = sdk.shown();
  assert.deepEqual(labels.filter(Boolean).map((l) => l.title), ["✔✔ 3× ↩", "⚙ 1"]);
  const tooltips = icons.filter(Boolean).map((i) => i.tooltip);
  assert.deepEqual(tooltips, [
    "Opened 3 times, last 5 min ago (25 Nov 2026, 14:03) · 2 clicks · Replied · " +
      "Machine activity (not counted): 1 hit",
  ]);
  assert.equal(icons[0].iconUrl, "chrome-extension://abc/icon128.png");

  row.setReceipt(receipt([{ bounces: 1, bounced: true, bounced_at: "2026-11-25T12:08:00Z" }], { ...UTC, now }));
  const bounced = sdk.shown();
  assert.deepEqual(bounced.labels[0], { title: "⚠ Bounced", foregroundColor: "#b3261e", backgroundColor: "#fce8e6" });
  assert.equal(bounced.icons[0].tooltip, "Bounced 2 h ago (25 Nov 2026, 12:08): not delivered");

  row.setReceipt(null); // no longer tracked: everything goes
  assert.deepEqual(sdk.shown(), { labels: [null, null], icons: [null] });
});

/** A compose view as InboxSDK hands it over, recording its listeners and the sends asked of it. */
function sdkCompose() {
  const listeners = {};
  const calls = [];
  return {
    listeners,
    calls,
    on: (name, cb) => { listeners[name] = cb; },
    getElement: () => ({ contains: () => true }),
    send: (options) => calls.push(["send", options]),
    openScheduleSendMenu: () => calls.push(["openScheduleSendMenu"]),
  };
}

test("a compose view in real Gmail: Send+Archive is seen and kept, the schedule menu held and reopened", async () => {
  const documentListeners = {};
  globalThis.document = { addEventListener: (type, cb) => { documentListeners[type] = cb; }, removeEventListener() {} };
  const { loadAdapter } = await loadRealAdapter();
  const adapter = await loadAdapter({ appId: "sdk_test" });
  let compose;
  adapter.onCompose((c) => { compose = c; });
  const view = sdkCompose();
  handlers.compose(view);
  const seen = [];
  compose.onPresending((event) => seen.push(event.archive));
  // The rep clicks Gmail's Send+Archive button, then (another time) presses Ctrl-Enter in the body.
  const archiveButton = { closest: (selector) => (selector.includes("role=button") ? {} : null) };
  documentListeners.click({ target: archiveButton });
  view.listeners.presending({ cancel() {} });
  documentListeners.keydown({ target: { closest: () => null } });
  view.listeners.presending({ cancel() {} });
  assert.deepEqual(seen, [true, false]);
  compose.send({ archive: true });
  compose.send();

  let held = 0;
  compose.onScheduleMenu((event) => { held += 1; event.cancel(); });
  let cancelled = false;
  view.listeners.scheduleSendMenuOpening({ cancel: () => { cancelled = true; } });
  compose.openScheduleMenu();
  assert.equal(held, 1);
  assert.ok(cancelled);
  assert.deepEqual(view.calls, [
    ["send", { sendAndArchive: true }], ["send", { sendAndArchive: false }], ["openScheduleSendMenu"],
  ]);

  const heard = [];
  compose.onSendCanceled(() => heard.push("sendCanceled"));
  compose.onDiscard(() => heard.push("discard"));
  view.listeners.sendCanceled();
  view.listeners.discard({ cancel() {} });
  assert.deepEqual(heard, ["sendCanceled", "discard"]);
  delete globalThis.document;
});

/** Just enough of a DOM element for the banner the adapter builds. */
function fakeElement(tag) {
  return {
    tag,
    children: [],
    attributes: {},
    listeners: {},
    style: {},
    setAttribute(name, value) { this.attributes[name] = value; },
    append(...nodes) { this.children.push(...nodes); },
    addEventListener(type, fn) { this.listeners[type] = fn; },
  };
}

test("a banner in real Gmail is a top message bar that stays, linking to the page to act on", async () => {
  globalThis.document = { createElement: fakeElement };
  const { loadAdapter } = await loadRealAdapter();
  const adapter = await loadAdapter({ appId: "sdk_test" });
  adapter.banner({ text: "Leadcamp lost access", action: "Reconnect Gmail", url: "https://lc.test/auth/google" });
  const [bar] = topBars;
  assert.equal(bar.el.attributes.role, "alert");
  const [words, link, close] = bar.el.children;
  assert.equal(words.textContent, "Leadcamp lost access");
  assert.deepEqual([link.tag, link.textContent, link.href, link.target, link.rel],
    ["a", "Reconnect Gmail", "https://lc.test/auth/google", "_blank", "noopener"]);
  close.listeners.click(); // the rep closes it
  assert.equal(bar.removed, true);

  adapter.banner({ text: "Leadcamp has not been able to sync", action: "Reconnect Gmail", url: "https://lc.test/" });
  adapter.banner(null); // healthy again: it goes
  assert.equal(topBars.length, 2);
  assert.equal(topBars[1].removed, true);
  delete globalThis.document;
});
