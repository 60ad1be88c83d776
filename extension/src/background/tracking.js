// Tracking a message at send time (signed here, with the key only the worker holds) and reporting
// it once sent, queued and retried while the server is unreachable.

import { b64decode } from "../shared/base64.js";
import { linkTargets, trackHtml } from "../shared/rewrite.js";
import { newMessageId, signer } from "../shared/signing.js";
import { api, ApiError, Unreachable } from "./api.js";
import { load, save } from "./config.js";
import { getSecret } from "./secrets.js";
import { account } from "./session.js";

const QUEUE_LIMIT = 500;
const MID = /^[A-Za-z0-9_-]{22}$/;

function untracked(reason) {
  return { tracked: false, reason };
}

async function trackingAccount() {
  // A fresh check: a message is only tracked when the server answers now, so its links work.
  try {
    // Well inside the content script's patience, so the mail still goes out promptly.
    return { me: await account({ fresh: true, timeout: 4000 }) };
  } catch (error) {
    if (error instanceof Unreachable) return { reason: "the Leadcamp server cannot be reached" };
    if (error instanceof ApiError && error.status === 401) {
      return { reason: "the extension's sign-in was revoked; connect it again in its options" };
    }
    return { reason: error.message };
  }
}

/** The tracked body of a message about to be sent, or why it goes out untracked. */
export async function track({ html, recipients, mid }) {
  if (!(await getSecret("token"))) return untracked("the extension is not connected to a Leadcamp server");
  const { me, reason } = await trackingAccount();
  if (!me) return untracked(reason);
  if (!me.tracking.enabled) return untracked("tracking is off for your account");
  const self = me.user.email.toLowerCase();
  if (!recipients.some((r) => r.email.toLowerCase() !== self)) return untracked("every recipient is you");
  const stored = await getSecret("signingKey");
  if (!stored) return untracked("no signing key yet");
  const id = MID.test(mid || "") ? mid : newMessageId();
  const sign = signer(b64decode(stored.key));
  const own = [me.tracking.tracking_host, new URL(stored.baseUrl).host];
  const pixel = stored.baseUrl + (await sign.pixelPath(stored.kid, id));
  const links = new Map();
  for (const target of linkTargets(html, own)) {
    links.set(target, stored.baseUrl + (await sign.clickPath(stored.kid, id, target)));
  }
  const out = trackHtml(html, pixel, (target) => links.get(target), own);
  return { tracked: true, mid: id, html: out.html, links: out.links.length };
}

/** Queue a sent message's report and try to deliver the queue now. */
export async function reportSent(report) {
  const queue = await load("queue", []);
  if (!queue.some((r) => r.id === report.id)) queue.push(report);
  await save("queue", queue.slice(-QUEUE_LIMIT));
  return flushQueue();
}

/** Deliver queued reports in order; stop at the first unreachable one (retried by the alarm). */
export async function flushQueue() {
  let queue = await load("queue", []);
  while (queue.length) {
    try {
      await api("/messages", { method: "POST", body: queue[0] });
    } catch (error) {
      if (error instanceof Unreachable) break;
      // Refused for good (e.g. invalid): keep the rest flowing; nothing would change on retry.
    }
    queue = (await load("queue", [])).filter((r) => r.id !== queue[0].id);
    await save("queue", queue);
  }
  return { queued: queue.length };
}
