// Read receipts: one batched status request per visible page of thread rows, refreshed while
// visible, their relative times redrawn on a clock of their own; in an open message of the
// rep's, the timeline and the self-view signal.

import { linkMessageId, pixelMessageId } from "../../shared/pixels.js";
import { receipt, timeline } from "../../shared/status.js";
import { el, timelineLine } from "../dom.js";

const REFRESH_MS = 60000;
// The relative times ("5 min ago") are redrawn from the last answer on this clock: no server
// request just for the clock.
const CLOCK_MS = 30000;
const MAX_THREADS = 500;

function threadList({ adapter, ask }) {
  const rows = new Map();
  const shown = new WeakMap(); // each row's receipt as last drawn: an unchanged one is not redrawn
  let answer = null;
  let timer = null;
  const draw = (row) => {
    const id = rows.get(row);
    if (!answer || id === undefined) return;
    const r = receipt(answer.threads[id] || [], { now: Date.now() });
    const key = JSON.stringify(r);
    if (shown.get(row) === key) return;
    shown.set(row, key);
    row.setReceipt(r);
  };
  async function refresh() {
    timer = null;
    const ids = [...new Set(rows.values())].slice(0, MAX_THREADS);
    if (!ids.length) return;
    answer = (await ask("lc.threads", { threadIds: ids }).catch(() => null)) || answer;
    for (const row of rows.keys()) draw(row);
  }
  const schedule = () => { timer = timer || setTimeout(refresh, 150); };
  const visible = () => document.visibilityState === "visible";
  adapter.onThreadRow(async (row) => {
    rows.set(row, await row.threadId());
    row.onDestroy(() => rows.delete(row));
    schedule();
  });
  setInterval(() => visible() && schedule(), REFRESH_MS);
  setInterval(() => visible() && [...rows.keys()].forEach(draw), CLOCK_MS);
  document.addEventListener("visibilitychange", () => visible() && schedule());
}

function renderTimeline(detail) {
  const t = timeline(detail);
  const line = (item) => timelineLine(item, `lc-event lc-${item.kind}`);
  const machine = el("details", {}, [
    el("summary", { text: "Machine activity (not counted)" }),
    el("ul", {}, t.machine.map(line)),
  ]);
  return el("section", { cls: "lc-timeline", attrs: { "data-lc-timeline": "" } }, [
    el("h4", { text: `Leadcamp: ${t.summary ? t.summary.tooltip.split("\n")[0] : "tracked"}` }),
    el("ul", {}, t.real.map(line)),
    t.machine.length ? machine : null,
  ]);
}

/** Our tracking host(s), asked of the worker until it knows them (it may not yet, e.g. while the
 * server is unreachable), then kept for the tab. */
function trackingHosts(ask) {
  let known = null;
  return async () => {
    if (known) return known;
    const settings = await ask("lc.settings").catch(() => ({}));
    const hosts = [settings.trackingHost].filter(Boolean);
    if (hosts.length) known = hosts;
    return hosts;
  };
}

function messageViews({ adapter, ask }) {
  const hosts = trackingHosts(ask);
  adapter.onMessageView(async (message) => {
    if (!message.fromMe()) return;
    const own = await hosts();
    const pixel = message.imageSources().map((src) => pixelMessageId(src, own)).find(Boolean);
    // A message tracked for links only has no pixel: its own (unquoted) links name it.
    const mid = pixel || message.linkHrefs().map((href) => linkMessageId(href, own)).find(Boolean);
    if (!mid) return;
    // The rep is looking at their own tracked message: opens now are theirs (with no pixel in
    // it, the view fetches nothing to explain).
    if (pixel) ask("lc.selfView", { mid }).catch(() => {});
    const detail = await ask("lc.message", { mid }).catch(() => null);
    if (detail) message.addPanel(renderTimeline(detail));
  });
}

/** Register read receipts. */
export function register(context) {
  threadList(context);
  messageViews(context);
}
