import assert from "node:assert/strict";
import { test } from "node:test";

import { register } from "../src/content/features/compose-tracking.js";

// Just enough DOM for the status bar the feature adds to a compose window.
globalThis.document = {
  createElement: (tag) => ({
    tag,
    children: [],
    append(...nodes) { this.children.push(...nodes); },
    setAttribute() {},
  }),
};

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

/** A compose window as the Gmail adapter exposes it; send() fires presending like Gmail's button. */
function fakeCompose() {
  const presending = [];
  const sent = [];
  const compose = {
    body: "<p>Hi <a href=\"https://a.example/\">there</a></p>",
    delivered: [],
    recipients: () => [{ email: "lead@example.org", name: "" }],
    subject: () => "Pricing",
    html: () => compose.body,
    setHtml: (html) => { compose.body = html; },
    statusBar: () => ({ append() {} }),
    onPresending: (cb) => presending.push(cb),
    onSent: (cb) => sent.push(cb),
    send() {
      let cancelled = false;
      for (const cb of presending) cb({ cancel: () => { cancelled = true; } });
      if (cancelled) return;
      compose.delivered.push(compose.body);
      for (const cb of sent) cb({ messageId: `m${compose.delivered.length}`, threadId: "t1" });
    },
  };
  return compose;
}

function setUp() {
  const compose = fakeCompose();
  const asked = [];
  let mids = 0;
  const ask = async (type, payload) => {
    asked.push({ type, ...payload });
    if (type === "lc.settings") return { connected: true, trackingEnabled: true, email: "rep@acme.test" };
    if (type === "lc.track") {
      await tick(30); // the worker signs while the rep may click again
      const mid = `mid${++mids}`;
      return { tracked: true, mid, html: `${payload.html}<img src="https://t.example/o/k.${mid}.s.gif">` };
    }
    return null;
  };
  const adapter = { onCompose: (handler) => handler(compose), userEmail: () => "rep@acme.test", notify() {} };
  register({ adapter, ask });
  return { compose, asked };
}

test("presending fired again while tracking is under way still sends the message once", async () => {
  const { compose, asked } = setUp();
  await tick();
  compose.send();
  compose.send(); // a double click, or Gmail firing presending twice
  await tick(100);
  assert.equal(compose.delivered.length, 1, "one message goes out");
  assert.equal(asked.filter((a) => a.type === "lc.track").length, 1, "tracked once");
  assert.match(compose.delivered[0], /\/o\/k\.mid1\./);
  const reports = asked.filter((a) => a.type === "lc.sent").map((a) => a.report);
  assert.deepEqual(reports.map((r) => [r.id, r.gmail_message_id, r.gmail_thread_id]), [["mid1", "m1", "t1"]]);
});

test("a message only to the rep goes out untouched, without tracking", async () => {
  const { compose, asked } = setUp();
  compose.recipients = () => [{ email: "REP@acme.test", name: "" }];
  await tick();
  compose.send();
  await tick(50);
  assert.deepEqual(compose.delivered, ["<p>Hi <a href=\"https://a.example/\">there</a></p>"]);
  assert.equal(asked.filter((a) => a.type === "lc.track" || a.type === "lc.sent").length, 0);
});
