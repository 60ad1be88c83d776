// One run at a time of the worker's jobs that read and write the same stored state (the activity
// cursor, the sent-report queue). The alarm, its half-way poll and Gmail's "opened" can all start
// them at once.

/** `fn` made single-flight: callers during a run share it; with `again`, they also get one more
 * run after it (so work added meanwhile is not left for the next tick). */
export function single(fn, { again = false } = {}) {
  let running = null;
  let next = null;
  const start = (...args) => {
    running = Promise.resolve().then(() => fn(...args)).finally(() => { running = null; });
    return running;
  };
  return (...args) => {
    if (!running) return start(...args);
    if (!again) return running;
    next = next || running.catch(() => {}).then(() => {
      next = null;
      return running || start(...args);
    });
    return next;
  };
}

/** Run `fn`s strictly one after another (a lock around read-modify-write of stored state). */
export function serial() {
  let tail = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn);
    tail = run.catch(() => {});
    return run;
  };
}
