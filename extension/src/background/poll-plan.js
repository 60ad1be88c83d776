// When to poll the activity feed next: every 15 s while things happen in a Gmail the rep looks at,
// less and less often while nothing happens, Gmail is not in view or the server fails, and not at
// all after a 401 until the rep connects again. Pure, so it is tested under Node.

export const BASE_MS = 15_000;
export const IDLE_CAP_MS = 5 * 60_000;
export const HIDDEN_MS = 2 * 60_000;
export const ERROR_CAP_MS = 15 * 60_000;
// A poll this early still counts as on time: the alarm's half-way poll comes 15 s after the
// alarm's own poll started, a little less after it ended.
const SLACK_MS = 2000;
// Quiet polls at the base rate before the interval starts doubling (the first minute).
const QUIET_AT_BASE = 4;

/** A fresh plan: poll now. */
export const freshPlan = () => ({ at: 0, quiet: 0, failures: 0, stopped: false });

/**
 * The plan after a poll that ended at `now` with `outcome` ("events", "quiet", "error" or
 * "unauthorized"); `visible` says whether a Gmail tab is in view. Errors back off exponentially
 * up to 15 min, quiet polls up to 5 min, and no Gmail in view means at most one poll in 2 min.
 */
export function afterPoll(plan, outcome, { now, visible }) {
  if (outcome === "unauthorized") return { ...plan, stopped: true };
  let next;
  if (outcome === "error") {
    const failures = plan.failures + 1;
    next = { quiet: plan.quiet, failures, delay: Math.min(BASE_MS * 2 ** failures, ERROR_CAP_MS) };
  } else {
    const quiet = outcome === "events" ? 0 : plan.quiet + 1;
    const doubling = Math.max(0, quiet - QUIET_AT_BASE);
    next = { quiet, failures: 0, delay: Math.min(BASE_MS * 2 ** doubling, IDLE_CAP_MS) };
  }
  const delay = visible ? next.delay : Math.max(next.delay, HIDDEN_MS);
  return { at: now + delay, quiet: next.quiet, failures: next.failures, stopped: false };
}

/** Whether a poll is due at `now` (`catchUp`: Gmail just opened, poll unless stopped). */
export function due(plan, now, { catchUp = false } = {}) {
  if (plan.stopped) return false;
  return catchUp || now + SLACK_MS >= plan.at;
}
