import assert from "node:assert/strict";
import { test } from "node:test";

import { contactCard, messageState, receipt, relativeTime, timeline } from "../src/shared/status.js";

const UTC = { locale: "en-GB", timeZone: "UTC" };
const summary = (fields) => ({
  tracked: true, opens: 0, clicks: 0, replies: 0, counts: {}, last_open_at: null, ...fields,
});

const NOW = Date.parse("2026-11-25T14:08:00Z");
const AT = { ...UTC, now: NOW };
const ago = (ms) => new Date(NOW - ms).toISOString();
const MIN = 60 * 1000;

test("relativeTime: just now, minutes, hours, yesterday, days, then the date", () => {
  const rel = (ms) => relativeTime(ago(ms), NOW, UTC);
  assert.equal(rel(0), "just now");
  assert.equal(rel(59 * 1000), "just now");
  assert.equal(rel(-30 * 1000), "just now", "a clock a little ahead is not in the future");
  assert.equal(rel(MIN), "1 min ago");
  assert.equal(rel(5 * MIN), "5 min ago");
  assert.equal(rel(59 * MIN + 59 * 1000), "59 min ago");
  assert.equal(rel(60 * MIN), "1 h ago");
  assert.equal(rel(3 * 60 * MIN + 20 * MIN), "3 h ago");
  assert.equal(rel(23 * 60 * MIN), "23 h ago");
  assert.equal(relativeTime("2026-11-24T09:00:00Z", NOW, UTC), "yesterday");
  assert.equal(relativeTime("2026-11-23T23:00:00Z", NOW, UTC), "2 days ago");
  assert.equal(relativeTime("2026-11-22T14:00:00Z", NOW, UTC), "3 days ago");
  assert.equal(relativeTime("2026-11-19T14:00:00Z", NOW, UTC), "6 days ago");
  assert.equal(relativeTime("2026-11-18T10:00:00Z", NOW, UTC), "18 Nov");
  assert.equal(relativeTime("2025-12-31T10:00:00Z", NOW, UTC), "31 Dec 2025");
  assert.equal(relativeTime(null, NOW, UTC), "");
  assert.equal(relativeTime("not a time", NOW, UTC), "");
});

test("relativeTime: yesterday is the rep's calendar day, in their zone", () => {
  // 23:00 on the 24th in Tokyo, seen at midnight starting the 26th there: 25 hours, two days.
  const now = Date.parse("2026-11-25T15:00:00Z");
  assert.equal(relativeTime("2026-11-24T14:00:00Z", now, { timeZone: "UTC" }), "yesterday");
  assert.equal(relativeTime("2026-11-24T14:00:00Z", now, { timeZone: "Asia/Tokyo" }), "2 days ago");
});

test("receipts: ✔ sent, ✔✔ opened 3× with the last open, relative and absolute", () => {
  assert.equal(receipt([]), null);
  assert.equal(receipt([summary({ tracked: false })]), null);
  const sent = receipt([summary({ sent_at: ago(3 * 60 * MIN) })], AT);
  assert.equal(sent.state, "sent");
  assert.equal(sent.label, "✔");
  assert.equal(sent.tooltip, "Sent 3 h ago (25 Nov 2026, 11:08), not opened yet");
  const opened = receipt(
    [
      summary({ opens: 2, last_open_at: ago(5 * MIN), clicks: 0 }),
      summary({ opens: 1, last_open_at: "2026-11-24T09:00:00Z" }),
    ],
    AT,
  );
  assert.equal(opened.state, "opened");
  assert.equal(opened.glyph, "✔✔");
  assert.equal(opened.label, "✔✔ 3×");
  assert.equal(opened.tooltip, "Opened 3 times, last 5 min ago (25 Nov 2026, 14:03)");
});

test("receipts: clicked and replied, with when", () => {
  const clicked = receipt([summary({ opens: 1, clicks: 2, last_open_at: ago(2 * MIN) })], AT);
  assert.equal(clicked.state, "clicked");
  assert.equal(clicked.label, "✔✔ 1× ↗");
  assert.match(clicked.tooltip, /\n2 clicks$/);
  const answered = summary({ opens: 3, replies: 1, replied: true, last_reply_at: ago(2 * 60 * MIN) });
  const replied = receipt([answered], AT);
  assert.equal(replied.state, "replied");
  assert.equal(replied.label, "✔✔ 3× ↩");
  assert.match(replied.tooltip, /\nReplied 2 h ago \(25 Nov 2026, 12:08\)$/);
  const two = receipt([summary({ replies: 2, last_reply_at: ago(5 * MIN) })], AT);
  assert.match(two.tooltip, /2 replies, last 5 min ago/);
  assert.equal(two.label, "✔✔ ↩", "a reply means it was read, though no open was seen");
});

test("receipts: a bounce with nothing read is ⚠ Bounced, with when", () => {
  const bounce = { bounces: 1, bounced: true, bounced_at: ago(2 * 60 * MIN), counts: { scanner: 1 } };
  const r = receipt([summary(bounce)], AT);
  assert.equal(r.state, "bounced");
  assert.equal(r.glyph, "⚠");
  assert.equal(r.label, "⚠ Bounced");
  assert.deepEqual(r.tooltip.split("\n"), [
    "Bounced 2 h ago (25 Nov 2026, 12:08): not delivered",
    "Machine activity (not counted): 1 hit",
  ]);
  // From a server without the receipt fields: the count is enough.
  assert.equal(receipt([summary({ bounces: 1 })], AT).label, "⚠ Bounced");
});

test("receipts: the thread's latest message decides bounced; a reply outranks it", () => {
  const read = summary({ opens: 2, last_open_at: ago(3 * 24 * 60 * MIN) });
  const bounced = summary({ bounced: true, bounces: 1, bounced_at: ago(10 * MIN) });
  const resent = receipt([read, bounced], AT);
  assert.equal(resent.state, "bounced", "the rep's last mail did not arrive");
  assert.deepEqual(resent.tooltip.split("\n"), [
    "Bounced 10 min ago (25 Nov 2026, 13:58): not delivered",
    "Opened 2 times, last 3 days ago (22 Nov 2026, 14:08)",
  ]);
  const fixed = receipt([bounced, summary({ sent_at: ago(MIN) })], AT);
  assert.equal(fixed.state, "sent", "a new mail after the bounce is on its way");
  assert.equal(fixed.label, "✔ ⚠");
  assert.match(fixed.tooltip, /\nBounced 10 min ago \(25 Nov 2026, 13:58\) \(one of the copies\)$/);
  // One recipient's copy bounced, another's was read: opened, with the bounce told.
  const partly = receipt([summary({ opens: 1, bounces: 1, bounced: true })], AT);
  assert.equal(partly.state, "opened");
  assert.equal(partly.label, "✔✔ 1× ⚠");
  const answered = receipt([bounced, summary({ replies: 1, replied: true })].reverse(), AT);
  assert.equal(answered.state, "replied");
});

test("message states", () => {
  assert.equal(messageState(summary({})), "sent");
  assert.equal(messageState(summary({ opens: 1 })), "opened");
  assert.equal(messageState(summary({ clicks: 1 })), "clicked", "a click implies an open");
  assert.equal(messageState(summary({ bounces: 1 })), "bounced");
  assert.equal(messageState(summary({ bounces: 1, opens: 1 })), "opened");
  assert.equal(messageState(summary({ bounces: 1, replied: true })), "replied");
});

test("machine activity is shown apart and never counted as an open", () => {
  const r = receipt([summary({ counts: { machine: 2, scanner: 1, self: 4, human: 0 } })], AT);
  assert.equal(r.state, "sent");
  assert.equal(r.label, "✔");
  assert.equal(r.machine, 3);
  assert.match(r.tooltip, /Machine activity \(not counted\): 3 hits/);
});

test("the relative times follow the clock given", () => {
  const message = [summary({ opens: 1, last_open_at: ago(5 * MIN) })];
  assert.match(receipt(message, AT).tooltip, /last 5 min ago/);
  assert.match(receipt(message, { ...UTC, now: NOW + 60 * MIN }).tooltip, /last 1 h ago/);
});

test("the timeline: a bounce and an automatic answer read as what they are, never as machine hits", () => {
  const events = [
    { at: "2026-11-25T10:00:00Z", kind: "bounce", verdict: "machine", device: {}, location: null, link: null },
    { at: "2026-11-25T11:00:00Z", kind: "auto_reply", verdict: "machine", device: {}, location: null, link: null },
    { at: "2026-11-25T12:00:00Z", kind: "open", verdict: "machine", device: {}, location: null, link: null },
  ];
  const t = timeline(summary({ bounces: 1, events }), AT);
  assert.deepEqual(t.real.map((i) => i.text), [
    "Automatic reply (out of office), not counted as a reply",
    "⚠ Bounced: the mail was not delivered",
  ]);
  assert.deepEqual(t.machine.map((i) => i.text), [
    "Opened — unknown device — hidden by Gmail (Apple Mail privacy prefetch, not counted)",
  ]);
  assert.equal(t.summary.state, "bounced");
  const card = contactCard(
    { email: "ana@acme.com", engagement: { timeline: [{ ...events[0], url: null }, { ...events[1], url: null }] } },
    UTC,
  );
  assert.deepEqual(card.timeline.map((i) => [i.text, i.machine]), [
    ["⚠ Bounced: the mail was not delivered", false],
    ["Automatic reply (out of office), not counted as a reply", false],
  ]);
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

test("receipts of mail sent with opens or links untracked say so, with when", () => {
  const sent = ago(3 * 60 * MIN);
  const linksOnly = receipt([summary({ track_opens: false, sent_at: sent })], AT);
  assert.equal(linksOnly.label, "✔");
  assert.equal(linksOnly.tooltip, "Sent 3 h ago (25 Nov 2026, 11:08), opens not tracked");
  const opensOnly = receipt([summary({ track_links: false, opens: 1, last_open_at: ago(5 * MIN) })], AT);
  assert.equal(opensOnly.tooltip, "Opened 1 time, last 5 min ago (25 Nov 2026, 14:03)\nLinks not tracked");
  assert.equal(receipt([summary({ track_opens: false })], AT).tooltip, "Sent (opens not tracked)");
});
