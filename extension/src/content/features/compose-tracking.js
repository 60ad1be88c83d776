// Compose tracking: per-message toggles for opens and for links, and on presending (or the
// schedule-send menu opening) the body signed and tracked by the worker. A send is never blocked:
// anything that goes wrong sends the mail untracked and says why. docs/extension.md lists every
// send path.

import { anyPart, defaultParts, reportParts } from "../../shared/parts.js";
import { trackedIdsIn } from "../../shared/pixels.js";
import { stripPixels } from "../../shared/rewrite.js";
import { el } from "../dom.js";
import { otherAccount, selfEmails } from "../self.js";

const PREPARE_TIMEOUT = 8000;

// The bodies as the rep wrote them (and the parts ticked), by the id they were tracked under,
// until Gmail reports the send: a send that is undone or fails gives the draft back as it was,
// with no links signed for an id the server never hears of. Per tab, which is where Undo reopens
// the draft.
const drafts = new Map();

/** One toggle of the status bar: a checkbox `data-lc-track-<part>` with its label. */
function toggle(part, label, checked) {
  const box = el("input", { attrs: { type: "checkbox", [`data-lc-track-${part}`]: "" } });
  box.checked = checked;
  return { box, label: el("label", {}, [box, el("span", { text: ` ${label} ` })]) };
}

function statusBar(compose, initial, note) {
  const opens = toggle("opens", "Opens", initial.opens);
  const links = toggle("links", "Links", initial.links);
  const text = el("span", { cls: "lc-note", text: note, attrs: { "data-lc-note": "" } });
  const words = el("span", { text: "Track: " });
  compose.statusBar().append(
    el("span", { cls: "lc-track", attrs: { "data-lc-track": "" } }, [words, opens.label, links.label, text]),
  );
  return {
    parts: () => ({ opens: opens.box.checked, links: links.box.checked }),
    say: (message) => { text.textContent = message; },
  };
}

/** Drop our earlier pixels (quoted text of a tracked mail) from a body going out untracked: left
 * in, a reply or forward would count the reader's opens on the old message. */
function stripOwnPixels(compose, hosts) {
  const html = compose.html();
  const clean = stripPixels(html, hosts);
  if (clean !== html) compose.setHtml(clean);
}

function onlyToSelf(recipients, selves) {
  return recipients.every((r) => selves.has(r.email.toLowerCase()));
}

// How a held message goes on once tracked: sent (the way the rep sent it: Send+Archive stays
// Send+Archive), or the schedule-send menu opened again for the rep to pick the time. InboxSDK's
// own reopening of the menu is not an event of the rep's, so it passes straight through.
const SEND = {
  said: "Sent",
  release: ({ compose, state }) => compose.send({ archive: state.archive }),
};
const SCHEDULE = {
  said: "Scheduled",
  release: ({ compose }) => compose.openScheduleMenu(),
};

/** Let the tracked body (or the untracked one, saying why) go out: the one send it gets. */
function goOut(result, { original, ...message }, ctx, way) {
  const { compose, bar, adapter, state, hosts } = ctx;
  if (result.tracked) {
    drafts.set(result.mid, { html: original, parts: message.parts });
    compose.setHtml(result.html);
    state.mid = result.mid;
    state.pending = { id: result.mid, ...message, scheduled: way === SCHEDULE };
  } else {
    state.pending = null;
    stripOwnPixels(compose, hosts);
    const why = `${way.said} untracked: ${result.reason}.`;
    bar.say(why);
    adapter.notify(why);
  }
  state.tracking = false;
  // A scheduled mail's menu may still be closed without a time: a later Send tracks it again.
  state.ready = way === SEND;
  way.release(ctx);
}

/** Hold a send (presending) or a schedule (the menu opening), track the body, then let it go on
 * once. */
function hold(event, ctx, way) {
  const { compose, bar, selves, state, ask, hosts } = ctx;
  // Our own re-send after tracking goes straight through.
  if (state.ready) return;
  // A second click (or presending) while tracking is under way: the send it ends with is the one.
  if (state.tracking) {
    event.cancel();
    return;
  }
  const recipients = compose.recipients();
  const parts = bar.parts();
  // Neither part ticked is an untracked send: nothing is asked of the worker or reported.
  if (!anyPart(parts) || !recipients.length || onlyToSelf(recipients, selves)) {
    stripOwnPixels(compose, hosts);
    return;
  }
  event.cancel();
  state.tracking = true;
  state.archive = Boolean(event.archive);
  // Taken now: once sent, the compose view may be gone.
  const html = compose.html();
  const message = { subject: compose.subject(), recipients, original: html, parts };
  const payload = { html, recipients, mid: state.mid, opens: parts.opens, links: parts.links };
  // A worker that does not answer in time rejects, and the mail goes out untracked.
  ask("lc.track", payload, { timeout: PREPARE_TIMEOUT })
    .catch((error) => ({ tracked: false, reason: error.message }))
    .then((result) => goOut(result, message, ctx, way));
}

/** Gmail's sent: report the tracked message with Gmail's ids (the worker queues and retries). A
 * scheduled one is reported when its compose window closes, if no sent came first: then without
 * Gmail's ids (the server's Gmail sync matches it once Gmail sends it). */
function onSent({ messageId, threadId }, { state, ask }) {
  if (!state.pending) return;
  const { id, subject, recipients, parts } = state.pending;
  state.pending = null;
  drafts.delete(id);
  const report = {
    id,
    subject,
    recipients,
    sent_at: new Date().toISOString(),
    gmail_message_id: messageId || undefined,
    gmail_thread_id: threadId || undefined,
    ...reportParts(parts),
  };
  ask("lc.sent", { report }).catch(() => {});
}

/** Gmail's sendCanceled (a failed send, a refused address, Undo): start over, so the next send is
 * tracked afresh with the recipients it then has (under the same id). */
function onSendCanceled({ compose, state }) {
  // Our own hold for tracking is followed by this event too.
  if (state.tracking) return;
  if (state.pending && drafts.has(state.pending.id)) compose.setHtml(drafts.get(state.pending.id).html);
  state.ready = false;
  state.pending = null;
}

/** A discarded draft goes nowhere: nothing to report (a schedule menu opened for it, say). */
function onDiscard({ state }) {
  if (state.pending) drafts.delete(state.pending.id);
  state.pending = null;
}

/** A draft reopened by Undo still carries the body we tracked: give it back as the rep wrote it;
 * the parts the rep had ticked for it, or null when it is no such draft. */
function restoreDraft(compose, hosts) {
  // By the pixel's id, or a link's when only links were tracked.
  for (const id of trackedIdsIn(compose.html(), hosts)) {
    const draft = drafts.get(id);
    if (!draft) continue;
    compose.setHtml(draft.html);
    drafts.delete(id);
    return draft.parts;
  }
  return null;
}

async function handleCompose(compose, { adapter, ask }) {
  const settings = await ask("lc.settings").catch((error) => ({ connected: false, reason: error.message }));
  // The tab's account was checked as Gmail opened, unless the worker had no account to say then.
  if (otherAccount(adapter, settings)) return;
  const usable = settings.connected && settings.trackingEnabled !== false;
  const note = usable ? "" : `(off: ${settings.reason || "tracking is off for your account"})`;
  const hosts = settings.ownHosts || [];
  const restored = restoreDraft(compose, hosts);
  const bar = statusBar(compose, (usable && restored) || defaultParts(settings, usable), note);
  const selves = selfEmails(adapter, settings);
  const state = { tracking: false, ready: false, mid: null, pending: null, archive: false };
  const ctx = { compose, bar, selves, state, adapter, ask, hosts };
  compose.onPresending((event) => hold(event, ctx, SEND));
  compose.onScheduleMenu((event) => hold(event, ctx, SCHEDULE));
  compose.onDiscard(() => onDiscard(ctx));
  compose.onDestroy(() => {
    if (state.pending?.scheduled) onSent({}, ctx);
  });
  compose.onSent((ids) => onSent(ids, ctx));
  compose.onSendCanceled(() => onSendCanceled(ctx));
}

/** Register compose tracking. */
export function register(context) {
  context.adapter.onCompose((compose) => handleCompose(compose, context));
}
