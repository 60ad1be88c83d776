// Tracking a message at send time (signed here, with the key only the worker holds) and reporting
// it once sent, queued and retried while the server is unreachable.

import { b64decode } from "../shared/base64.js";
import { linkTargets, trackHtml } from "../shared/rewrite.js";
import { signer } from "../shared/signing.js";
import { api, ApiError, Unreachable } from "./api.js";
import { load, save } from "./config.js";
import { getSecret } from "./secrets.js";
import { account, trackingHosts } from "./session.js";
import { serial, single } from "./single.js";

const QUEUE_LIMIT = 500;
const MID = /^[A-Za-z0-9_-]{22}$/;
const TRACK_BUDGET_MS = 4000;

function untracked(reason) {
  return { tracked: false, reason };
}

async function trackingAccount() {
  // A fresh check: a message is only tracked when the server answers now, so its links work.
  try {
    // One budget for every request, well inside the content script's patience (8 s), so the
    // mail still goes out promptly.
    return { me: await account({ fresh: true, budget: TRACK_BUDGET_MS }) };
  } catch (error) {
    if (error instanceof Unreachable) return { reason: "the Leadcamp server cannot be reached" };
    if (error instanceof ApiError && error.status === 401) {
      return { reason: "the extension's sign-in was revoked; connect it again in its options" };
    }
    return { reason: error.message };
  }
}

/** The tracked body of a message about to be sent (with the parts the rep ticked: opens, links),
 * or why it goes out untracked. */
export async function track({ html, recipients, mid, opens = true, links: trackLinks = true }) {
  if (!opens && !trackLinks) return untracked("neither opens nor links are ticked");
  if (!(await getSecret("token"))) return untracked("the extension is not connected to a Leadcamp server");
  const { me, reason } = await trackingAccount();
  if (!me) return untracked(reason);
  if (!me.tracking.enabled) return untracked("tracking is off for your account");
  const self = me.user.email.toLowerCase();
  if (!recipients.some((r) => r.email.toLowerCase() !== self)) return untracked("every recipient is you");
  const stored = await getSecret("signingKey");
  if (!stored) return untracked("no signing key yet");
  const sign = signer(b64decode(stored.key));
  // A retry of the same compose keeps its id (made with this rep's key, maybe an older one).
  const id = MID.test(mid || "") ? mid : await sign.messageId();
  const own = trackingHosts(me, stored);
  const pixel = opens ? stored.baseUrl + (await sign.pixelPath(stored.kid, id)) : null;
  const links = new Map();
  for (const target of trackLinks ? linkTargets(html, own) : []) {
    links.set(target, stored.baseUrl + (await sign.clickPath(stored.kid, id, target)));
  }
  const out = trackHtml(html, pixel, trackLinks ? (target) => links.get(target) : null, own);
  return { tracked: true, mid: id, html: out.html, links: out.links.length };
}

const QUEUE = serial(); // every read-modify-write of the queue, one at a time
// Refusals a retry cannot change (malformed, unknown to the server, already there): the report is
// dropped so the rest can flow. Anything else (sign-in revoked, rate limit) keeps it for later.
const REFUSED_FOR_GOOD = new Set([400, 404, 409, 422]);

function updateQueue(change) {
  return QUEUE(async () => {
    const queue = change(await load("queue", []));
    await save("queue", queue);
    return queue;
  });
}

/** Queue a sent message's report and try to deliver the queue now. */
export async function reportSent(report) {
  await updateQueue((queue) => {
    if (!queue.some((r) => r.id === report.id)) queue.push(report);
    return queue.slice(-QUEUE_LIMIT);
  });
  return flushQueue();
}

async function deliver() {
  let queue = await load("queue", []);
  while (queue.length) {
    const head = queue[0];
    try {
      await api("/messages", { method: "POST", body: head });
    } catch (error) {
      if (!(error instanceof ApiError && REFUSED_FOR_GOOD.has(error.status))) break;
    }
    queue = await updateQueue((q) => q.filter((r) => r.id !== head.id));
  }
  return { queued: queue.length };
}

/** Deliver queued reports in order; stop at the first that cannot go now (retried by the alarm).
 * One delivery at a time; a report queued during one is delivered by a run right after it. */
export const flushQueue = single(deliver, { again: true });
