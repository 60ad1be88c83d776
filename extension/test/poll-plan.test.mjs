import assert from "node:assert/strict";
import { test } from "node:test";

import { afterPoll, BASE_MS, due, ERROR_CAP_MS, freshPlan, HIDDEN_MS, IDLE_CAP_MS } from "../src/background/poll-plan.js";

const now = 1_000_000;
const run = (outcomes, { visible = true } = {}) => {
  let plan = freshPlan();
  const delays = [];
  for (const outcome of outcomes) {
    plan = afterPoll(plan, outcome, { now, visible });
    delays.push(plan.at - now);
  }
  return { plan, delays };
};

test("while events come and Gmail is in view, every 15 s", () => {
  assert.deepEqual(run(["events", "events", "events"]).delays, [BASE_MS, BASE_MS, BASE_MS]);
});

test("quiet polls back off after a minute, doubling up to a cap, and an event resets it", () => {
  const { delays } = run(Array(12).fill("quiet"));
  assert.deepEqual(delays.slice(0, 6), [15_000, 15_000, 15_000, 15_000, 30_000, 60_000]);
  assert.equal(Math.max(...delays), IDLE_CAP_MS);
  assert.equal(delays.at(-1), IDLE_CAP_MS);
  assert.equal(run([...Array(12).fill("quiet"), "events"]).delays.at(-1), BASE_MS);
});

test("errors back off exponentially with a cap, and a good poll resets it", () => {
  const { delays } = run(Array(10).fill("error"));
  assert.deepEqual(delays.slice(0, 3), [30_000, 60_000, 120_000]);
  assert.equal(delays.at(-1), ERROR_CAP_MS);
  assert.equal(run([...Array(10).fill("error"), "events"]).delays.at(-1), BASE_MS);
});

test("with no Gmail in view, at most one poll in two minutes", () => {
  assert.deepEqual(run(["events"], { visible: false }).delays, [HIDDEN_MS]);
  assert.equal(run(Array(12).fill("quiet"), { visible: false }).delays.at(-1), IDLE_CAP_MS);
});

test("a 401 stops polling, even when Gmail opens, until a fresh plan (connecting again)", () => {
  const { plan } = run(["events", "unauthorized"]);
  assert.equal(due(plan, now + 10 * ERROR_CAP_MS), false);
  assert.equal(due(plan, now, { catchUp: true }), false);
  assert.equal(due(freshPlan(), now), true);
});

test("a poll is due when its time comes, or at once when Gmail opens", () => {
  const { plan } = run(["quiet"]);
  assert.equal(due(plan, now + BASE_MS - 5000), false);
  assert.equal(due(plan, now + BASE_MS - 1000), true, "the half-way poll, a moment early");
  assert.equal(due(plan, now + BASE_MS), true);
  assert.equal(due(plan, now + 1, { catchUp: true }), true);
});
