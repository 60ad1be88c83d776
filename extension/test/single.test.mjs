// The worker's single-flight and serial helpers (background/single.js): what keeps its jobs on
// shared stored state (the activity cursor, the sent-report queue) from interleaving when the
// alarm, its half-way poll and Gmail opening start them at once. Pure logic, no server: the jobs
// themselves run against the real server in tests/extension/test_gmail_extension.py.

import assert from "node:assert/strict";
import { test } from "node:test";

import { serial, single } from "../src/background/single.js";

const later = () => new Promise((resolve) => setImmediate(resolve));

/** A promise the test resolves by hand: a run held open while other calls come in. */
function held() {
  let release;
  const promise = new Promise((resolve) => { release = resolve; });
  return { promise, release };
}

test("calls during a run share it, so polls started together read the cursor once", async () => {
  const gate = held();
  let runs = 0;
  const poll = single(async () => {
    runs += 1;
    await gate.promise;
    return `run ${runs}`;
  });
  const together = [poll(), poll(), poll()];
  gate.release();
  assert.deepEqual(await Promise.all(together), ["run 1", "run 1", "run 1"]);
  assert.equal(await poll(), "run 2", "a call after the run starts a new one");
});

test("with again, work added during a run gets one more run, shared, and none is lost", async () => {
  const first = held();
  const queue = ["a"];
  const delivered = [];
  const flush = single(async () => {
    const batch = queue.splice(0);
    if (batch.includes("a")) await first.promise; // "a" is in flight while more is queued
    delivered.push(batch);
    return delivered.length;
  }, { again: true });
  const a = flush();
  await later();
  queue.push("b");
  const b = flush();
  queue.push("c");
  const c = flush();
  first.release();
  assert.deepEqual(await Promise.all([a, b, c]), [1, 2, 2]);
  assert.deepEqual(delivered, [["a"], ["b", "c"]]);
});

test("with again, the run after a failed one still happens", async () => {
  const first = held();
  let runs = 0;
  const flush = single(async () => {
    runs += 1;
    if (runs === 1) {
      await first.promise;
      throw new Error("unreachable");
    }
    return runs;
  }, { again: true });
  const failing = flush();
  await later();
  const next = flush();
  first.release();
  await assert.rejects(failing, /unreachable/);
  assert.equal(await next, 2);
});

test("serial runs its jobs one at a time, in order, a failure not stopping the rest", async () => {
  const lock = serial();
  const log = [];
  const job = (name) => async () => {
    log.push(`${name} reads`);
    await later();
    log.push(`${name} writes`);
    return name;
  };
  const results = await Promise.allSettled([
    lock(job("a")),
    lock(async () => { throw new Error("failed"); }),
    lock(job("b")),
  ]);
  assert.deepEqual(log, ["a reads", "a writes", "b reads", "b writes"]);
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
});
