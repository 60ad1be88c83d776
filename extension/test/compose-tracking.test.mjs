import assert from "node:assert/strict";
import { test } from "node:test";

import { register } from "../src/content/features/compose-tracking.js";
import { defaultParts } from "../src/shared/parts.js";
import { linkMessageId, trackedIdsIn } from "../src/shared/pixels.js";

const SIG = "iM1fGXD1X88yPZVCqya41EsDXeeVrrPAQkdkdKI6Ny4";
const MID = "q2X0c1ZPq0nqz7lU4m2GdA";
const LINK = `https://t.example/c/k1.${MID}.${SIG}/aHR0cHM6Ly9hY21lLmV4YW1wbGUv`;
const OLD_PIXEL = `<img src="https://t.example/o/k0.older1.${SIG}.gif">`;
const BODY = '<p>See <a href="https://acme.example/">our site</a></p>';
const tick = () => new Promise(setImmediate); // the stubs answer at once: one turn settles them

/** Just enough DOM for the status bar: elements with attributes, text and children. */
class Node {
  constructor(tag) {
    Object.assign(this, { tag, attributes: {}, children: [], textContent: "", checked: false });
  }
  setAttribute(name, value) { this.attributes[name] = value; }
  append(...nodes) { this.children.push(...nodes); }
  find(attr) {
    if (attr in this.attributes) return this;
    for (const child of this.children) {
      const found = child.find(attr);
      if (found) return found;
    }
    return null;
  }
}
globalThis.document = { createElement: (tag) => new Node(tag) };

/** A compose view as the adapters give it, its events fired by the test. */
function stubCompose(html) {
  const on = {};
  const listen = (name) => (cb) => { on[name] = cb; };
  const view = {
    body: html, bar: new Node("div"), sends: [],
    recipients: () => [{ email: "lead@example.org", name: "" }],
    subject: () => "Hello",
    html: () => view.body,
    setHtml: (value) => { view.body = value; },
    send: (options) => view.sends.push(options),
    openScheduleMenu() {},
    statusBar: () => view.bar,
    onPresending: listen("presending"), onSent: listen("sent"), onSendCanceled: listen("sendCanceled"),
    onScheduleMenu: listen("scheduleMenu"), onDiscard: listen("discard"), onDestroy: listen("destroy"),
    on,
    box: (part) => view.bar.find(`data-lc-track-${part}`),
    press() {
      const event = { cancelled: false, cancel() { event.cancelled = true; } };
      on.presending(event);
      return event;
    },
  };
  return view;
}

/** Register the feature over a stub adapter and worker; compose windows open with `open(html)`. */
function setup(settings = {}) {
  const asked = [];
  let handler;
  const worker = {
    "lc.settings": () => ({
      connected: true, trackingEnabled: true, trackByDefault: true, ownHosts: ["t.example"], ...settings,
    }),
    "lc.track": (m) => ({
      tracked: true, mid: MID, html: m.links ? m.html.replace("https://acme.example/", LINK) : m.html,
    }),
    "lc.sent": () => null,
  };
  const ask = async (type, payload = {}) => {
    asked.push({ type, ...payload });
    return worker[type](payload);
  };
  const adapter = { userEmail: () => "rep@acme.test", notify() {}, onCompose: (h) => { handler = h; } };
  register({ adapter, ask });
  const open = async (html) => {
    const compose = stubCompose(html);
    await handler(compose);
    return compose;
  };
  return { asked, open, of: (type) => asked.filter((a) => a.type === type) };
}

test("the toggles start from the account's default, then the rep's own defaults, else both on", () => {
  assert.deepEqual(defaultParts({}, true), { opens: true, links: true });
  assert.deepEqual(defaultParts({ trackOpens: false }, true), { opens: false, links: true });
  assert.deepEqual(defaultParts({ trackLinks: false }, true), { opens: true, links: false });
  assert.deepEqual(defaultParts({ trackByDefault: false }, true), { opens: false, links: false });
  assert.deepEqual(defaultParts({}, false), { opens: false, links: false });
});

test("a compose window shows two toggles set from the settings", async () => {
  const { open } = setup({ trackOpens: false });
  const compose = await open(BODY);
  assert.equal(compose.box("opens").checked, false);
  assert.equal(compose.box("links").checked, true);
});

test("links only: the worker is asked for links alone, and the report names the parts", async () => {
  const { open, of } = setup();
  const compose = await open(BODY);
  compose.box("opens").checked = false;
  assert.equal(compose.press().cancelled, true, "held for tracking");
  await tick();
  const [asked] = of("lc.track");
  assert.equal(asked.opens, false);
  assert.equal(asked.links, true);
  assert.ok(compose.body.includes(LINK) && compose.sends.length === 1);
  compose.on.sent({ messageId: "m1", threadId: "t1" });
  const [{ report }] = of("lc.sent");
  assert.equal(report.id, MID);
  assert.equal(report.track_opens, false);
  assert.equal(report.track_links, true);
});

test("neither part ticked: an untracked send, our earlier pixels dropped, nothing reported", async () => {
  const { open, of } = setup();
  const compose = await open(BODY + OLD_PIXEL);
  compose.box("opens").checked = false;
  compose.box("links").checked = false;
  assert.equal(compose.press().cancelled, false, "Gmail sends it at once");
  assert.equal(compose.body, BODY);
  compose.on.sent({ messageId: "m1", threadId: "t1" });
  await tick();
  assert.deepEqual(of("lc.track"), []);
  assert.deepEqual(of("lc.sent"), []);
});

test("Undo gives back a links-only draft as written, with its toggles as the rep left them", async () => {
  const { open } = setup();
  const first = await open(BODY);
  first.box("opens").checked = false;
  first.press();
  await tick();
  assert.ok(!first.body.includes("/o/") && first.body.includes(LINK));
  const reopened = await open(first.body); // Gmail reopens the sent draft in a new compose view
  assert.equal(reopened.body, BODY);
  assert.equal(reopened.box("opens").checked, false);
  assert.equal(reopened.box("links").checked, true);
});

test("the ids of a body's pixels and click links, our own only", () => {
  assert.equal(linkMessageId(LINK, ["t.example"]), MID);
  assert.equal(linkMessageId(LINK, ["other.example"]), null);
  assert.equal(linkMessageId(`https://t.example/c/k1.${MID}.short/x`, ["t.example"]), null);
  const html = `${OLD_PIXEL}<a href="${LINK}">a</a><a href="https://acme.example/c/k.m.${SIG}/x">b</a>`;
  assert.deepEqual(trackedIdsIn(html, ["t.example"]), ["older1", MID]);
});
