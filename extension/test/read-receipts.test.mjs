import assert from "node:assert/strict";
import { test } from "node:test";

import { register } from "../src/content/features/read-receipts.js";

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));
const SIG = "iM1fGXD1X88yPZVCqya41EsDXeeVrrPAQkdkdKI6Ny4";
const MID = "q2X0c1ZPq0nqz7lU4m2GdA";
const PIXEL = `https://t.example/o/k1.${MID}.${SIG}.gif`;

test("the self-view signal starts once the worker knows the tracking host, unknown at first", async () => {
  globalThis.document = { visibilityState: "hidden", addEventListener() {}, createElement: () => ({}) };
  const interval = globalThis.setInterval;
  globalThis.setInterval = () => 0; // the thread list's refresh timer is not under test
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
  try {
    register({ adapter, ask });
  } finally {
    globalThis.setInterval = interval;
  }
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
  const interval = globalThis.setInterval;
  globalThis.setInterval = () => 0;
  const asked = [];
  const ask = async (type, payload) => {
    asked.push({ type, ...payload });
    if (type === "lc.settings") return { connected: true, trackingHost: "t.example" };
    if (type === "lc.message") return null; // no panel drawn: the stub has no DOM
    throw new Error("not found");
  };
  let onMessage;
  const adapter = { onThreadRow() {}, onMessageView: (handler) => { onMessage = handler; } };
  try {
    register({ adapter, ask });
  } finally {
    globalThis.setInterval = interval;
  }
  const link = `https://t.example/c/k1.${MID}.${SIG}/aHR0cHM6Ly9hLmV4YW1wbGUv`;
  await onMessage({
    fromMe: () => true, imageSources: () => [], linkHrefs: () => ["mailto:x@a.example", link], addPanel() {},
  });
  await tick();
  assert.deepEqual(asked.filter((a) => a.type === "lc.message").map((a) => a.mid), [MID]);
  assert.deepEqual(asked.filter((a) => a.type === "lc.selfView"), []);
});
