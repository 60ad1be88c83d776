// Desktop notifications of opens, clicks and replies: the activity feed, polled every 15 s (an
// alarm and a half-way poll), each event shown once (the server's cursor, and the ids shown).

import { activityText, inQuietHours } from "../shared/status.js";
import { api } from "./api.js";
import { load, prefs, save } from "./config.js";
import { getSecret } from "./secrets.js";
import { single } from "./single.js";

const SEEN_LIMIT = 500;

/** Fetch new activity and notify; returns the events shown. One poll at a time: polls started
 * meanwhile share it, so two never read the same cursor and show the same events. */
export const pollActivity = single((now) => poll(now || new Date()));

/** One poll: new events since the stored cursor, each notified once (the ids already shown). */
async function poll(now) {
  if (!(await getSecret("token"))) return [];
  const cursor = await load("cursor", null);
  const page = await api(cursor ? `/activity?after=${encodeURIComponent(cursor)}` : "/activity");
  const seen = new Set(await load("seen", []));
  const fresh = page.events.filter((e) => !seen.has(e.id));
  await save("cursor", page.cursor);
  await save("seen", [...seen, ...fresh.map((e) => e.id)].slice(-SEEN_LIMIT));
  const p = await prefs();
  if (p.muted || inQuietHours(now, p.quietStart, p.quietEnd) || !fresh.length) return [];
  for (const event of fresh) {
    const { title, message } = activityText(event);
    chrome.notifications.create(`lc-${event.id}`, {
      type: "basic", iconUrl: "icon128.png", title, message, priority: 1,
    });
  }
  await tellGmailTabs(fresh);
  return fresh;
}

/** Push new events to open Gmail tabs for their in-Gmail notices. */
async function tellGmailTabs(events) {
  const tabs = await chrome.tabs.query({ url: "https://mail.google.com/*" });
  for (const tab of tabs) {
    chrome.tabs.sendMessage(tab.id, { type: "lc.activity", events }).catch(() => {});
  }
}
