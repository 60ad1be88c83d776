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

/** Hits of machines (scanners, prefetch, bots) and of the sender, kept apart from real opens. */
function machineHits(counts = {}) {
  return ["machine", "prefetch", "scanner", "bot"].reduce((n, v) => n + (counts[v] || 0), 0);
}

/** The receipt of a thread's tracked messages: ✔ sent, ✔✔ opened; null when none is tracked. */
export function receipt(messages, format = {}) {
  const tracked = (messages || []).filter((m) => m.tracked !== false);
  if (!tracked.length) return null;
  const opens = tracked.reduce((n, m) => n + (m.opens || 0), 0);
  const clicks = tracked.reduce((n, m) => n + (m.clicks || 0), 0);
  const replies = tracked.reduce((n, m) => n + (m.replies || 0), 0);
  const machine = tracked.reduce((n, m) => n + machineHits(m.counts), 0);
  const lastOpen = tracked.map((m) => m.last_open_at).filter(Boolean).sort().pop() || null;
  // A part the rep did not track (a compose toggle off) cannot show activity: say so rather than
  // "not opened" (older servers say nothing of parts: both were tracked).
  const opensTracked = tracked.some((m) => m.track_opens !== false);
  const linksTracked = tracked.some((m) => m.track_links !== false);
  const sent = opensTracked ? "Sent, not opened yet" : "Sent (opens not tracked)";
  const lines = [opens ? `Opened ${plural(opens, "time")}` : sent];
  if (lastOpen) lines.push(`Last opened ${formatTime(lastOpen, format)}`);
  if (clicks) lines.push(plural(clicks, "click"));
  else if (!linksTracked) lines.push("Links not tracked");
  if (replies) lines.push(replies === 1 ? "Replied" : `${replies} replies`);
  if (machine) lines.push(`Machine activity (not counted): ${plural(machine, "hit")}`);
  return {
    glyph: opens ? "✔✔" : "✔",
    label: opens ? `✔✔ ${opens}` : "✔",
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

/** One event of a message as a timeline line: {kind, at, text, machine}. */
function timelineItem(event, format = {}) {
  const at = formatTime(event.at, format);
  const machine = !REAL.has(event.verdict) && event.kind !== "reply";
  let text;
  if (event.kind === "open") text = `Opened — ${deviceText(event.device)} — ${placeText(event)}`;
  else if (event.kind === "click") text = `Clicked ${event.link || "a link"}`;
  else if (event.kind === "reply") text = "Replied";
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
