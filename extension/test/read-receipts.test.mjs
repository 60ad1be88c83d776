import assert from "node:assert/strict";
import { test } from "node:test";

import { register } from "../src/content/features/read-receipts.js";

const tick = () => new Promise(setImmediate); // the stubs answer at once: one turn settles them

/** Register the feature with stand-ins; the thread list's refresh timer is not under test. */
function registered(adapter, ask) {
  const interval = globalThis.setInterval;
  globalThis.setInterval = () => 0;
  try {
    register({ adapter, ask });
  } finally {
    globalThis.setInterval = interval;
  }
}
const SIG = "iM1fGXD1X88yPZVCqya41EsDXeeVrrPAQkdkdKI6Ny4";
const MID = "q2X0c1ZPq0nqz7lU4m2GdA";
const PIXEL = `https://t.example/o/k1.${MID}.${SIG}.gif`;

test("the self-view signal starts once the worker knows the tracking host, unknown at first", async () => {
  globalThis.document = { visibilityState: "hidden", addEventListener() {}, createElement: () => ({}) };
  const asked = [];
  // The worker has no account yet (the server is unreachable): no tracking host.
  let settings = { connected: true, reason: "the Leadcamp server cannot be reached" };
  const ask = async (type, payload) => {
    asked.push({ type, ...payload });
    if (type === "lc.settings") return settings;
    throw new Error("not found");
  };
  let onMessage;
  const adapter = { onThreadRow() {}, onMessageView: (handler) => { onMessage = handler; } };
  registered(adapter, ask);
  const ours = {
    fromMe: () => true,
    imageSources: () => [PIXEL],
    linkHrefs: () => [],
    addPanel() {},
  };
  const selfViews = () => asked.filter((a) => a.type === "lc.selfView").map((a) => a.mid);

  await onMessage(ours);
  assert.deepEqual(selfViews(), [], "without a known host nothing is ours yet");
  settings = { connected: true, trackingHost: "t.example" };
  await onMessage(ours);
  await onMessage(ours);
  await tick();
  assert.deepEqual(selfViews(), [MID, MID]);
  assert.equal(asked.filter((a) => a.type === "lc.settings").length, 2, "a known host is kept");
});

test("a links-only message of the rep's: its timeline, found by its own link, no self-view", async () => {
  globalThis.document = { visibilityState: "hidden", addEventListener() {}, createElement: () => ({}) };
  const asked = [];
  const ask = async (type, payload) => {
    asked.push({ type, ...payload });
    if (type === "lc.settings") return { connected: true, trackingHost: "t.example" };
    if (type === "lc.message") return null; // no panel drawn: the stub has no DOM
    throw new Error("not found");
  };
  let onMessage;
  const adapter = { onThreadRow() {}, onMessageView: (handler) => { onMessage = handler; } };
  registered(adapter, ask);
  const link = `https://t.example/c/k1.${MID}.${SIG}/aHR0cHM6Ly9hLmV4YW1wbGUv`;
  await onMessage({
    fromMe: () => true, imageSources: () => [], linkHrefs: () => ["mailto:x@a.example", link], addPanel() {},
  });
  await tick();
  assert.deepEqual(asked.filter((a) => a.type === "lc.message").map((a) => a.mid), [MID]);
  assert.deepEqual(asked.filter((a) => a.type === "lc.selfView"), []);
});

test("thread rows: one status request, then the relative times move on with the clock alone", async () => {
  const timers = { intervals: [], timeouts: [] };
  const saved = { setInterval, setTimeout, now: Date.now, document: globalThis.document };
  let now = Date.parse("2026-11-25T14:08:00Z");
  globalThis.document = { visibilityState: "visible", addEventListener() {}, createElement: () => ({}) };
  globalThis.setInterval = (fn, ms) => timers.intervals.push({ fn, ms });
  globalThis.setTimeout = (fn, ms) => timers.timeouts.push({ fn, ms });
  Date.now = () => now;
  const asked = [];
  const threads = {
    t1: [{ opens: 3, last_open_at: "2026-11-25T14:03:00Z", counts: {} }],
    t2: [{ bounces: 1, bounced: true, bounced_at: "2026-11-25T13:00:00Z", counts: {} }],
  };
  const ask = async (type, payload) => {
    asked.push(type);
    if (type === "lc.threads") return { threads: Object.fromEntries(payload.threadIds.map((id) => [id, threads[id]])) };
    return {};
  };
  const drawn = { t1: [], t2: [] };
  const row = (id) => ({ threadId: async () => id, onDestroy() {}, setReceipt: (r) => drawn[id].push(r) });
  let onRow;
  try {
    register({ adapter: { onThreadRow: (h) => { onRow = h; }, onMessageView() {} }, ask });
    await onRow(row("t1"));
    await onRow(row("t2"));
    const clock = timers.intervals.find((t) => t.ms < 60000);
    assert.ok(clock, "a clock shorter than the server refresh");
    await timers.timeouts.shift().fn(); // the batched status request
    assert.deepEqual(asked, ["lc.threads"]);
    assert.equal(drawn.t1.at(-1).label, "✔✔ 3×");
    assert.match(drawn.t1.at(-1).tooltip, /last 5 min ago/);
    assert.equal(drawn.t2.at(-1).label, "⚠ Bounced");

    now += 20 * 60 * 1000;
    clock.fn();
    assert.match(drawn.t1.at(-1).tooltip, /last 25 min ago/);
    assert.match(drawn.t2.at(-1).tooltip, /Bounced 1 h ago/);
    const draws = drawn.t1.length;
    clock.fn(); // the same minute: nothing changed, nothing redrawn
    assert.equal(drawn.t1.length, draws);
    assert.deepEqual(asked, ["lc.threads"], "the clock asks the server nothing");
  } finally {
    Object.assign(globalThis, { setInterval: saved.setInterval, setTimeout: saved.setTimeout, document: saved.document });
    Date.now = saved.now;
  }
});
