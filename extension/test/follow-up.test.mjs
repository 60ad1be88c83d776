import assert from "node:assert/strict";
import { test } from "node:test";

import { activityText, FOLLOW_UP_DAYS, followUpState, followUpTarget, parseDays } from "../src/shared/status.js";

const UTC = { locale: "en-GB", timeZone: "UTC" };

test("a reminder goes on the thread's latest tracked message", () => {
  assert.equal(followUpTarget([]), null);
  assert.equal(followUpTarget(undefined), null);
  const messages = [
    { id: "b", tracked: true, sent_at: "2026-12-02T09:00:00Z" },
    { id: "a", tracked: true, sent_at: "2026-12-01T09:00:00Z" },
    { id: "c", tracked: false, sent_at: "2026-12-03T09:00:00Z" },
  ];
  assert.equal(followUpTarget(messages).id, "b");
});

test("days are whole numbers from 1 to 90 as typed", () => {
  assert.deepEqual(FOLLOW_UP_DAYS, { min: 1, max: 90, default: 3 });
  for (const ok of ["1", " 7 ", "90", 3]) assert.equal(parseDays(ok), Number(String(ok).trim()));
  for (const bad of ["0", "91", "-1", "2.5", "3d", "", null, undefined, "1e1", "007"]) {
    assert.equal(parseDays(bad), null, `${bad}`);
  }
});

test("the control's line: the due date while pending, a nudge once due, nothing to cancel after", () => {
  const base = { days: 3, due_at: "2026-12-08T14:03:00Z", created_at: "2026-12-05T14:03:00Z", fired_at: null };
  assert.deepEqual(followUpState({ ...base, state: "pending" }, UTC), {
    active: true, text: "Reminder on 8 Dec 2026, 14:03 if no reply",
  });
  const due = followUpState({ ...base, state: "due", fired_at: "2026-12-08T14:03:20Z" }, UTC);
  assert.deepEqual(due, { active: true, text: "No reply by 8 Dec 2026, 14:03: time to follow up" });
  assert.deepEqual(followUpState({ ...base, state: "done" }, UTC), {
    active: false, text: "They replied: the reminder ended.",
  });
  for (const none of [null, undefined, { ...base, state: "cancelled" }]) {
    assert.deepEqual(followUpState(none, UTC), { active: false, text: "No reminder set." });
  }
});

test("a reminder come due is notified as such", () => {
  const event = { id: "x", kind: "follow_up_due", subject: "Pricing for Lee", days: 3, verdict: null, location: null };
  assert.deepEqual(activityText(event), {
    title: "No reply yet", message: "Pricing for Lee\nNo reply in 3 days: time to follow up",
  });
  assert.deepEqual(activityText({ ...event, subject: "", days: 1 }), {
    title: "No reply yet", message: "(no subject)\nNo reply in 1 day: time to follow up",
  });
});
