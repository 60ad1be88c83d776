// Read receipts: one batched status request per visible page of thread rows, refreshed while
// visible; in an open message of the rep's, the timeline and the self-view signal.

import { linkMessageId, pixelMessageId } from "../../shared/pixels.js";
import { receipt, timeline } from "../../shared/status.js";
import { el, timelineLine } from "../dom.js";

const REFRESH_MS = 60000;
const MAX_THREADS = 500;

function threadList({ adapter, ask }) {
  const rows = new Map();
  let timer = null;
  async function refresh() {
    timer = null;
    const ids = [...new Set(rows.values())].slice(0, MAX_THREADS);
    if (!ids.length) return;
    const answer = await ask("lc.threads", { threadIds: ids }).catch(() => null);
    if (!answer) return;
    for (const [row, id] of rows) row.setReceipt(receipt(answer.threads[id] || []));
  }
  const schedule = () => { timer = timer || setTimeout(refresh, 150); };
  adapter.onThreadRow(async (row) => {
    rows.set(row, await row.threadId());
    row.onDestroy(() => rows.delete(row));
    schedule();
  });
  setInterval(() => document.visibilityState === "visible" && schedule(), REFRESH_MS);
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && schedule());
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
