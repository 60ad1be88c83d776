import assert from "node:assert/strict";
import { test } from "node:test";

import { contactCard, receipt, timeline } from "../src/shared/status.js";

const UTC = { locale: "en-GB", timeZone: "UTC" };
const summary = (fields) => ({
  tracked: true, opens: 0, clicks: 0, replies: 0, counts: {}, last_open_at: null, ...fields,
});

test("receipts: ✔ sent, ✔✔ opened with the count and last open in the tooltip", () => {
  assert.equal(receipt([]), null);
  assert.equal(receipt([summary({ tracked: false })]), null);
  const sent = receipt([summary({})], UTC);
  assert.equal(sent.glyph, "✔");
  assert.match(sent.tooltip, /not opened/);
  const opened = receipt(
    [
      summary({ opens: 2, last_open_at: "2026-11-25T14:03:00Z", clicks: 1 }),
      summary({ opens: 1, last_open_at: "2026-11-24T09:00:00Z" }),
    ],
    UTC,
  );
  assert.equal(opened.glyph, "✔✔");
  assert.equal(opened.label, "✔✔ 3");
  assert.match(opened.tooltip, /Opened 3 times/);
  assert.match(opened.tooltip, /Last opened 25 Nov 2026, 14:03/);
  assert.match(opened.tooltip, /1 click/);
});

test("machine activity is shown apart and never counted as an open", () => {
  const r = receipt([summary({ counts: { machine: 2, scanner: 1, human: 0 } })], UTC);
  assert.equal(r.glyph, "✔");
  assert.equal(r.machine, 3);
  assert.match(r.tooltip, /Machine activity \(not counted\): 3 hits/);
});

test("the timeline: device and region, 'hidden by Gmail', clicks with the link, replies", () => {
  const events = [
    { at: "2026-11-25T10:00:00Z", kind: "open", verdict: "scanner", device: {}, location: null, link: null },
    {
      at: "2026-11-25T11:00:00Z", kind: "open", verdict: "human",
      device: { type: "mobile", os: "iOS", browser: "Mobile Safari" },
      location: { country: "GB", region: "England", city: null }, link: null,
    },
    {
      at: "2026-11-25T12:00:00Z", kind: "open", verdict: "proxy",
      device: { type: null, os: null, browser: null }, location: null, link: null,
    },
    {
      at: "2026-11-25T12:05:00Z", kind: "click", verdict: "human", device: {}, location: null,
      link: "https://acme.example/pricing",
    },
    { at: "2026-11-25T13:00:00Z", kind: "reply", verdict: "human", device: {}, location: null, link: null },
  ];
  const t = timeline(summary({ opens: 2, events }), UTC);
  assert.deepEqual(t.real.map((i) => i.text), [
    "Replied",
    "Clicked https://acme.example/pricing",
    "Opened — unknown device — hidden by Gmail",
    "Opened — mobile · iOS · Mobile Safari — England, GB",
  ]);
  assert.deepEqual(
    t.machine.map((i) => i.text),
    ["Opened — unknown device — hidden by Gmail (security scanner, not counted)"],
  );
  assert.equal(t.real[0].at, "25 Nov 2026, 13:00");
});

test("the contact card from the contacts API's shape", () => {
  const card = contactCard(
    {
      email: "ana@acme.com", name: "Ana Ruiz", title: "CTO", phone: null, notes: "", do_not_enrich: false,
      company: { domain: "acme.com", name: "Acme" },
      enrichment: { status: "found", provider: "clearbit", fetched_at: null, person: null, company: null },
      engagement: {
        score: 72, opens: 3, clicks: 1, replies: 1, last_activity_at: "2026-11-25T12:00:00Z",
        timeline: [{
          kind: "click", at: "2026-11-25T12:00:00Z", message_id: "m", subject: "Hi", verdict: "human",
          url: "https://acme.example/", device: "desktop", region: "Bavaria",
        }],
      },
      messages: [{
        id: "m", subject: "", sent_at: "2026-11-24T08:00:00Z", gmail_thread_id: "t1",
        opens: 3, clicks: 1, replies: 1,
      }],
    },
    UTC,
  );
  assert.equal(card.heading, "Ana Ruiz");
  assert.equal(card.role, "CTO · Acme");
  assert.equal(card.enrichment, "Enriched by clearbit");
  assert.equal(card.score, "Score 72/100");
  assert.equal(card.counts, "3 opens · 1 click · 1 reply");
  assert.equal(card.timeline[0].text, "Clicked https://acme.example/");
  assert.deepEqual(
    card.messages[0],
    { subject: "(no subject)", detail: "24 Nov 2026, 08:00 — 3 opens, 1 click", threadId: "t1" },
  );
});

test("the contact card's other tracked messages leave out the thread it is shown beside", () => {
  const message = (id, thread) => ({ id, subject: id, sent_at: null, gmail_thread_id: thread });
  const contact = { email: "ana@acme.com", messages: [message("here", "t1"), message("elsewhere", "t2")] };
  assert.deepEqual(contactCard(contact, UTC, { thread: "t1" }).messages.map((m) => m.subject), ["elsewhere"]);
  assert.deepEqual(contactCard(contact, UTC).messages.map((m) => m.subject), ["here", "elsewhere"]);
});

test("receipts of messages sent with a part untracked say so, never 'not opened'", () => {
  const linksOnly = receipt([summary({ track_opens: false, track_links: true })], UTC);
  assert.equal(linksOnly.glyph, "✔");
  assert.match(linksOnly.tooltip, /^Sent \(opens not tracked\)$/);
  const opensOnly = receipt([summary({ track_opens: true, track_links: false })], UTC);
  assert.equal(opensOnly.tooltip, "Sent, not opened yet\nLinks not tracked");
  const clicked = receipt([summary({ track_opens: false, track_links: true, clicks: 1 })], UTC);
  assert.equal(clicked.tooltip, "Sent (opens not tracked)\n1 click");
  // One message of the thread tracks opens: "not opened" is true of the thread.
  const mixed = receipt([summary({ track_opens: false }), summary({ track_links: false })], UTC);
  assert.equal(mixed.tooltip, "Sent, not opened yet");
  const detail = timeline({ ...summary({ track_opens: false }), events: [] }, UTC);
  assert.equal(detail.summary.tooltip.split("\n")[0], "Sent (opens not tracked)");
});
