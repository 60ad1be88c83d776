// Desktop notifications of opens, clicks and replies: the activity feed, polled as poll-plan.js
// says (every 15 s at most: an alarm and a half-way poll), each event shown once (the server's
// cursor, and the ids shown).

import { activityText, inQuietHours } from "../shared/status.js";
import { api, ApiError } from "./api.js";
import { load, prefs, save } from "./config.js";
import { afterPoll, due, freshPlan } from "./poll-plan.js";
import { getSecret } from "./secrets.js";
import { single } from "./single.js";

const SEEN_LIMIT = 500;

/** Fetch new activity and notify; returns the events shown. One poll at a time: polls started
 * meanwhile share it, so two never read the same cursor and show the same events. */
export const pollActivity = single((now) => planned(now || new Date()));

/** Poll when the plan says it is time (`catchUp`: Gmail just opened, poll unless stopped). */
export async function pollIfDue({ catchUp = false } = {}) {
  if (!due(await load("pollPlan", freshPlan()), Date.now(), { catchUp })) return [];
  return pollActivity();
}

/** Whether a Gmail tab is in view (the active tab of a window). */
async function gmailInView() {
  return (await chrome.tabs.query({ url: "https://mail.google.com/*", active: true })).length > 0;
}

/** One poll, and the plan for the next from how it went. */
async function planned(now) {
  if (!(await getSecret("token"))) return [];
  let outcome = "error";
  try {
    const { fresh, shown } = await poll(now);
    outcome = fresh.length ? "events" : "quiet";
    return shown;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) outcome = "unauthorized";
    throw error;
  } finally {
    const plan = await load("pollPlan", freshPlan());
    await save("pollPlan", afterPoll(plan, outcome, { now: Date.now(), visible: await gmailInView() }));
  }
}

/** One poll: new events since the stored cursor, each notified once (the ids already shown). */
async function poll(now) {
  const cursor = await load("cursor", null);
  const page = await api(cursor ? `/activity?after=${encodeURIComponent(cursor)}` : "/activity");
  if (page.gmail) await tellGmailHealth({ gmail: page.gmail, at: Date.now() });
  const seen = new Set(await load("seen", []));
  const fresh = page.events.filter((e) => !seen.has(e.id));
  await save("cursor", page.cursor);
  await save("seen", [...seen, ...fresh.map((e) => e.id)].slice(-SEEN_LIMIT));
  const p = await prefs();
  if (p.muted || inQuietHours(now, p.quietStart, p.quietEnd) || !fresh.length) return { fresh, shown: [] };
  for (const event of fresh) {
    const { title, message } = activityText(event);
    chrome.notifications.create(`lc-${event.id}`, {
      type: "basic", iconUrl: "icon128.png", title, message, priority: 1,
    });
  }
  await tellGmailTabs(fresh);
  return { fresh, shown: fresh };
}

/** Keep the Gmail health each poll carries and push it to open Gmail tabs (their banner). */
async function tellGmailHealth(health) {
  await save("gmailHealth", health);
  await toGmailTabs({ type: "lc.gmailHealth", ...health });
}

/** Push new events to open Gmail tabs for their in-Gmail notices. */
async function tellGmailTabs(events) {
  await toGmailTabs({ type: "lc.activity", events });
}

/** Send `message` to every open Gmail tab (one that is gone or not listening is skipped). */
async function toGmailTabs(message) {
  for (const tab of await chrome.tabs.query({ url: "https://mail.google.com/*" })) {
    chrome.tabs.sendMessage(tab.id, message).catch(() => {});
  }
}
