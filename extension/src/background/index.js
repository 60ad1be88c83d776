// The service worker: owns the token and key, talks to the server, keeps the self-open block
// rules, shows notifications, and injects InboxSDK's page-world script when asked.

import "@inboxsdk/core/background.js";
import { api } from "./api.js";
import { load, prefs, restrictStorage, save } from "./config.js";
import { pollIfDue } from "./notify.js";
import { getSecret } from "./secrets.js";
import { account, onTabUrl, signOut, startConnect, status, trackingHosts } from "./session.js";
import { flushQueue, reportSent, track } from "./tracking.js";

const POLL_ALARM = "lc.poll";
const EXTENSION_PAGE = chrome.runtime.getURL("");

/** Our hosts as far as they are known here (the key's links may point at another): every send
 * strips our earlier pixels on them, tracked or not. */
async function ownHosts(me) {
  const key = await getSecret("signingKey");
  return key ? trackingHosts(me, key) : [me.tracking.tracking_host];
}

/** What Gmail's side may know of the account: connected, email, tracking switches and hosts. */
async function settings() {
  // The rep's own defaults for the compose toggles (used unless the account's default is off).
  const { trackOpens, trackLinks } = await prefs();
  try {
    const me = await account();
    if (!me) return { connected: false, reason: "the extension is not connected to a Leadcamp server" };
    return {
      ownHosts: await ownHosts(me),
      // The one Gmail account tracked: the mailbox connected at the server, else the rep's address.
      gmailAccount: me.gmail?.email || me.user.email,
      connected: true,
      email: me.user.email,
      trackingEnabled: me.tracking.enabled,
      trackByDefault: me.tracking.track_by_default,
      trackOpens,
      trackLinks,
      trackingHost: me.tracking.tracking_host,
    };
  } catch (error) {
    return { connected: true, reason: error.message, trackingEnabled: true, trackByDefault: true, trackOpens, trackLinks };
  }
}

/** The rep's Gmail health as last heard, with when: from the notification polls (each carries it)
 * or the account check, whichever is newer. No request of its own: Gmail opening polls anyway. */
async function gmailHealth() {
  const polled = await load("gmailHealth", null);
  const me = await load("me", null);
  const fromMe = me?.gmail ? { gmail: me.gmail, at: me.fetchedAt || 0 } : null;
  if (!polled) return fromMe;
  return fromMe && fromMe.at > polled.at ? fromMe : polled;
}

const FROM_GMAIL = {
  // Gmail just opened: a good moment to retry queued reports and catch up on activity.
  "lc.opened": () => { tick({ catchUp: true }); },
  "lc.settings": () => settings(),
  "lc.gmailHealth": () => gmailHealth(),
  "lc.track": (m) => track(m),
  "lc.sent": (m) => reportSent(m.report),
  "lc.threads": (m) => api("/threads/status", { method: "POST", body: { thread_ids: m.threadIds } }),
  "lc.message": (m) => api(`/messages/${encodeURIComponent(m.mid)}`),
  "lc.selfView": (m) => api(`/messages/${encodeURIComponent(m.mid)}/self-view`, { method: "POST", body: {} }),
  "lc.followUp": (m) => api(`/messages/${encodeURIComponent(m.mid)}/follow-up`, { method: "PUT", body: { days: m.days } }),
  "lc.cancelFollowUp": (m) => api(`/messages/${encodeURIComponent(m.mid)}/follow-up`, { method: "DELETE" }),
  "lc.contact": (m) => api(`/contacts/${encodeURIComponent(m.email)}`),
};

const FROM_OPTIONS = {
  ...FROM_GMAIL,
  "lc.connect": (m) => startConnect(m.serverUrl),
  "lc.signOut": () => signOut(),
  "lc.status": () => status(),
  "lc.prefs": (m) => save("prefs", m.prefs),
};

/** The handler for a message from this extension (options pages get more), or null. */
function handlerFor(message, sender) {
  if (sender.id !== chrome.runtime.id || typeof message?.type !== "string") return null;
  const fromOptions = Boolean(sender.url?.startsWith(EXTENSION_PAGE));
  const table = fromOptions ? FROM_OPTIONS : FROM_GMAIL;
  return Object.hasOwn(table, message.type) ? table[message.type] : null;
}

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  const handler = handlerFor(message, sender);
  if (!handler) return false; // InboxSDK's listener (page-world injection) handles its own
  Promise.resolve()
    .then(() => handler(message))
    .then(
      (result) => sendResponse({ ok: true, result: result ?? null }),
      (error) => sendResponse({ ok: false, error: error.message, status: error.status ?? null }),
    );
  return true;
});

chrome.tabs.onUpdated.addListener((tabId, change, tab) => {
  onTabUrl(tabId, change.url || tab.url).catch(() => {});
});

/** Retry the sent-report queue, then poll for activity if it is time (`catchUp`: now). */
async function tick({ catchUp = false } = {}) {
  await flushQueue().catch(() => {});
  await pollIfDue({ catchUp }).catch(() => {});
}

// Alarms fire at most every 30 s; a second poll half-way keeps the worst case (the feed's 5 s
// settle plus the wait for a poll) near 20 s, inside the half minute notifications promise. The
// worker stays alive that long: an alarm event gives it 30 s.
const HALF_PERIOD_MS = 15_000;

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name !== POLL_ALARM) return;
  tick();
  setTimeout(() => pollIfDue().catch(() => {}), HALF_PERIOD_MS);
});

chrome.runtime.onInstalled.addListener((details) => {
  if (details.reason === "install") chrome.runtime.openOptionsPage();
});

restrictStorage();
// Every 30 s, Chrome's minimum alarm period (with the half-way poll above). Created only when
// missing: creating it again on each worker start would restart the period, and a worker woken
// more often than every 30 s would then never see the alarm fire.
chrome.alarms.get(POLL_ALARM).then((alarm) => {
  if (!alarm) chrome.alarms.create(POLL_ALARM, { periodInMinutes: 0.5 });
});
