// What the rep sees of a message's status: receipts in thread lists, the timeline in a message,
// the lead sidebar, follow-up reminders. Pure: plain strings and objects; the content script
// renders them as text.

const REAL = new Set(["human", "proxy"]);
const MACHINE_LABELS = {
  machine: "Apple Mail privacy prefetch",
  prefetch: "prefetch",
  scanner: "security scanner",
  bot: "bot",
  self: "you",
};

/** A time as the rep reads it ("25 Nov 2026, 14:03"), in their zone unless one is given. */
function formatTime(iso, { locale, timeZone } = {}) {
  if (!iso) return "";
  const options = { dateStyle: "medium", timeStyle: "short", ...(timeZone ? { timeZone } : {}) };
  return new Intl.DateTimeFormat(locale, options).format(new Date(iso));
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The calendar day of `ms` in the zone, as a day number (so two days subtract). */
function dayNumber(ms, timeZone) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    year: "numeric", month: "2-digit", day: "2-digit", ...(timeZone ? { timeZone } : {}),
  }).format(new Date(ms));
  return Date.UTC(...parts.split("-").map((p, i) => Number(p) - (i === 1 ? 1 : 0))) / DAY;
}

/** How long before `now` the time `from` was, as a rep reads it: "just now", "5 min ago",
 * "3 h ago", "yesterday", "3 days ago", then the date ("25 Nov", with the year when not this
 * year's). A time a little ahead of `now` (another clock) is "just now". */
export function relativeTime(from, now = Date.now(), { locale, timeZone } = {}) {
  const then = from ? new Date(from).getTime() : NaN;
  const at = new Date(now).getTime();
  if (!Number.isFinite(then) || !Number.isFinite(at)) return "";
  const ago = at - then;
  if (ago < MINUTE) return "just now";
  if (ago < HOUR) return `${Math.floor(ago / MINUTE)} min ago`;
  if (ago < DAY) return `${Math.floor(ago / HOUR)} h ago`;
  const days = dayNumber(at, timeZone) - dayNumber(then, timeZone);
  if (days <= 1) return "yesterday";
  if (days < 7) return `${days} days ago`;
  const year = (ms) => new Intl.DateTimeFormat("en", { year: "numeric", timeZone }).format(ms);
  const options = { day: "numeric", month: "short", ...(timeZone ? { timeZone } : {}) };
  if (year(then) !== year(at)) options.year = "numeric";
  return new Intl.DateTimeFormat(locale, options).format(new Date(then));
}

/** "5 min ago (25 Nov 2026, 14:03)": relative for a glance, absolute for the record. */
function when(iso, format) {
  return iso ? `${relativeTime(iso, format.now ?? Date.now(), format)} (${formatTime(iso, format)})` : "";
}

/** Hits of machines (scanners, prefetch, bots) and of the sender, kept apart from real opens. */
function machineHits(counts = {}) {
  return ["machine", "prefetch", "scanner", "bot"].reduce((n, v) => n + (counts[v] || 0), 0);
}

const replied = (m) => Boolean(m.replied || m.replies);
const bounced = (m) => Boolean(m.bounced || m.bounces);

/** One message's state: replied, clicked, opened, bounced (a delivery failure and nothing real
 * opened or clicked: with several recipients, one copy may bounce while others are read) or sent. */
export function messageState(m) {
  if (replied(m)) return "replied";
  if (m.clicks) return "clicked";
  if (m.opens) return "opened";
  return bounced(m) ? "bounced" : "sent";
}

/** A thread's state: replied when the lead answered any of its messages; bounced when its latest
 * tracked message bounced (the rep's last mail did not arrive); else the furthest of the rest. */
function threadState(tracked) {
  const states = tracked.map(messageState);
  if (states.includes("replied")) return "replied";
  if (states[states.length - 1] === "bounced") return "bounced";
  return ["clicked", "opened"].find((s) => states.includes(s)) || "sent";
}

const latestOf = (tracked, field) => tracked.map((m) => m[field]).filter(Boolean).sort().pop() || null;
const sum = (tracked, field) => tracked.reduce((n, m) => n + (m[field] || 0), 0);

function receiptLabel(state, opens, anyBounce) {
  if (state === "bounced") return "⚠ Bounced";
  const glyph = state === "sent" ? "✔" : "✔✔";
  const mark = { clicked: " ↗", replied: " ↩" }[state] || "";
  return `${glyph}${opens ? ` ${opens}×` : ""}${mark}${anyBounce ? " ⚠" : ""}`;
}

/** "Sent 3 h ago (…), not opened yet"; a mail sent without its pixel (the compose window's Opens
 * toggle off) cannot show an open, so it says so rather than "not opened" (older servers say
 * nothing of parts: both were tracked). */
function sentLine(tracked, format) {
  const sent = latestOf(tracked, "sent_at");
  const opensTracked = tracked.some((m) => m.track_opens !== false);
  if (!sent) return opensTracked ? "Sent, not opened yet" : "Sent (opens not tracked)";
  return `Sent ${when(sent, format)}, ${opensTracked ? "not opened yet" : "opens not tracked"}`;
}

function receiptLines(tracked, state, format) {
  const opens = sum(tracked, "opens");
  const clicks = sum(tracked, "clicks");
  const replies = sum(tracked, "replies");
  const machine = tracked.reduce((n, m) => n + machineHits(m.counts), 0);
  const lastOpen = latestOf(tracked, "last_open_at");
  const lastBounce = latestOf(tracked, "bounced_at");
  const bounceText = `Bounced${lastBounce ? ` ${when(lastBounce, format)}` : ""}`;
  const lines = [];
  if (state === "bounced") lines.push(`${bounceText}: not delivered`);
  if (opens) lines.push(`Opened ${plural(opens, "time")}${lastOpen ? `, last ${when(lastOpen, format)}` : ""}`);
  else if (state !== "bounced") lines.push(sentLine(tracked, format));
  if (clicks) lines.push(plural(clicks, "click"));
  else if (!tracked.some((m) => m.track_links !== false)) lines.push("Links not tracked");
  const lastReply = latestOf(tracked, "last_reply_at");
  if (replies) {
    const what = replies === 1 ? "Replied" : `${replies} replies, last`;
    lines.push(lastReply ? `${what} ${when(lastReply, format)}` : what.replace(", last", ""));
  }
  if (state !== "bounced" && tracked.some(bounced)) lines.push(`${bounceText} (one of the copies)`);
  if (machine) lines.push(`Machine activity (not counted): ${plural(machine, "hit")}`);
  return { lines, opens, machine };
}

/** The receipt of a thread's tracked messages: its state (sent, opened, clicked, replied,
 * bounced), a short label ("✔✔ 3×", "⚠ Bounced") and the tooltip ("Opened 3 times, last 5 min
 * ago (…)"); null when none is tracked. `format.now` is the clock the relative times read. */
export function receipt(messages, format = {}) {
  const tracked = (messages || []).filter((m) => m.tracked !== false);
  if (!tracked.length) return null;
  const state = threadState(tracked);
  const { lines, opens, machine } = receiptLines(tracked, state, format);
  return {
    state,
    glyph: state === "bounced" ? "⚠" : state === "sent" ? "✔" : "✔✔",
    label: receiptLabel(state, opens, state !== "bounced" && tracked.some(bounced)),
    opens,
    machine,
    tooltip: lines.join("\n"),
  };
}

function deviceText(device) {
  if (typeof device === "string") return device;
  const parts = [device?.type, device?.os, device?.browser].filter(Boolean);
  return parts.length ? parts.join(" · ") : "unknown device";
}

function placeText(event) {
  if (event.verdict === "proxy") return "hidden by Gmail";
  if (typeof event.region === "string") return event.region;
  if (!event.location) return "hidden by Gmail";
  const { city, region, country } = event.location;
  return [city, region, country].filter(Boolean).join(", ") || "unknown region";
}

// What Gmail sync finds in the thread: mail, not hits, so never "machine activity" (a bounce and an
// auto-reply carry the machine verdict only so that nothing counts them as a reader's).
const MAIL_TEXT = {
  reply: "Replied",
  bounce: "⚠ Bounced: the mail was not delivered",
  auto_reply: "Automatic reply (out of office), not counted as a reply",
};

/** One event of a message as a timeline line: {kind, at, text, machine}. */
function timelineItem(event, format = {}) {
  const at = formatTime(event.at, format);
  const mail = event.kind in MAIL_TEXT;
  const machine = !REAL.has(event.verdict) && !mail;
  let text;
  if (event.kind === "open") text = `Opened — ${deviceText(event.device)} — ${placeText(event)}`;
  else if (event.kind === "click") text = `Clicked ${event.link || "a link"}`;
  else if (mail) text = MAIL_TEXT[event.kind];
  else text = event.kind.charAt(0).toUpperCase() + event.kind.slice(1);
  if (machine) text += ` (${MACHINE_LABELS[event.verdict] || event.verdict}, not counted)`;
  return { kind: event.kind, at, text, machine };
}

/** A message's timeline, newest first, real activity and machine activity apart. */
export function timeline(detail, format = {}) {
  const items = [...(detail.events || [])].reverse().map((e) => timelineItem(e, format));
  return {
    summary: receipt([detail], format),
    real: items.filter((i) => !i.machine),
    machine: items.filter((i) => i.machine),
  };
}

/** The lead sidebar of one contact (GET /api/v1/contacts/<email>), as plain lines; its tracked
 * messages are the ones outside `thread` (the thread the sidebar is shown beside). */
export function contactCard(contact, format = {}, { thread = null } = {}) {
  const company = contact.company?.name || contact.company?.domain || "";
  const person = contact.enrichment?.person || {};
  const heading = contact.name || person.name || contact.email;
  const role = [contact.title || person.title, company].filter(Boolean).join(" · ");
  const e = contact.engagement || {};
  return {
    heading,
    email: contact.email,
    role,
    enrichment: enrichmentText(contact.enrichment),
    score: `Score ${e.score ?? 0}/100`,
    counts: [plural(e.opens || 0, "open"), plural(e.clicks || 0, "click"), replies(e.replies || 0)]
      .join(" · "),
    timeline: (e.timeline || []).map((item) => timelineItem({ ...item, link: item.url }, format)),
    messages: (contact.messages || [])
      .filter((m) => !thread || m.gmail_thread_id !== thread)
      .map((m) => messageLine(m, format)),
  };
}

function messageLine(m, format) {
  const counts = `${plural(m.opens || 0, "open")}, ${plural(m.clicks || 0, "click")}`;
  return {
    subject: m.subject || "(no subject)",
    detail: `${formatTime(m.sent_at, format)} — ${counts}`,
    threadId: m.gmail_thread_id,
  };
}

function replies(n) {
  return n === 1 ? "1 reply" : `${n} replies`;
}

function enrichmentText(enrichment) {
  const status = enrichment?.status;
  if (!status || status === "off") return "";
  if (status === "found") return `Enriched by ${enrichment.provider || "provider"}`;
  if (status === "queued" || status === "pending") return "Enrichment pending";
  if (status === "not_found") return "No enrichment found";
  return "Enrichment failed";
}

/** The title and line of a desktop notification for one activity event. */
export function activityText(event) {
  const subject = event.subject || "(no subject)";
  if (event.kind === "click") {
    return { title: "Link clicked", message: `${subject}\n${event.link || ""}`.trim() };
  }
  if (event.kind === "reply") return { title: "Reply received", message: subject };
  if (event.kind === "follow_up_due") {
    const days = event.days ? ` in ${plural(event.days, "day")}` : "";
    return { title: "No reply yet", message: `${subject}\nNo reply${days}: time to follow up` };
  }
  const where = event.verdict === "proxy" || !event.location ? {} : event.location;
  const place = [where.city, where.region, where.country].filter(Boolean).join(", ");
  return { title: "Email opened", message: place ? `${subject}\n${place}` : subject };
}

export const FOLLOW_UP_DAYS = { min: 1, max: 90, default: 3 };

/** The message of a thread a reminder goes on: the latest tracked one (thread status list). */
export function followUpTarget(messages) {
  const tracked = (messages || []).filter((m) => m.tracked !== false);
  return [...tracked].sort((a, b) => (a.sent_at || "").localeCompare(b.sent_at || "")).pop() || null;
}

/** Whole days from 1 to 90 as typed in the control, or null when that is not what was typed. */
export function parseDays(value) {
  const text = String(value ?? "").trim();
  if (!/^\d{1,2}$/.test(text)) return null;
  const days = Number(text);
  return days >= FOLLOW_UP_DAYS.min && days <= FOLLOW_UP_DAYS.max ? days : null;
}

/** What the follow-up control shows for a message's reminder: a line of text and whether a
 * reminder is active (pending or due: it can be cancelled). */
export function followUpState(followUp, format = {}) {
  const state = followUp?.state;
  if (state === "pending") {
    return { active: true, text: `Reminder on ${formatTime(followUp.due_at, format)} if no reply` };
  }
  if (state === "due") {
    return { active: true, text: `No reply by ${formatTime(followUp.due_at, format)}: time to follow up` };
  }
  if (state === "done") return { active: false, text: "They replied: the reminder ended." };
  return { active: false, text: "No reminder set." };
}

function minutes(hhmm) {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm || "");
  return m && Number(m[1]) < 24 && Number(m[2]) < 60 ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/** Whether `now` (local time) falls in the quiet hours [start, end), which may span midnight. */
export function inQuietHours(now, start, end) {
  const from = minutes(start);
  const to = minutes(end);
  if (from === null || to === null || from === to) return false;
  const at = now.getHours() * 60 + now.getMinutes();
  return from < to ? at >= from && at < to : at >= from || at < to;
}
