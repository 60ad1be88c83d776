// The lead sidebar of a thread: each other participant as the server knows them — enrichment,
// engagement score and timeline, and the other tracked messages with them.

import { contactCard } from "../../shared/status.js";
import { el, timelineLine } from "../dom.js";
import { selfEmails } from "../self.js";

const MAX_CONTACTS = 5;

function messageLine(m) {
  return el("li", {}, [el("strong", { text: m.subject }), el("span", { text: ` ${m.detail}` })]);
}

function card(contact, thread) {
  const c = contactCard(contact, {}, { thread });
  return el("article", { cls: "lc-contact", attrs: { "data-lc-contact": c.email } }, [
    el("h3", { text: c.heading }),
    el("p", { cls: "lc-email", text: c.email }),
    c.role ? el("p", { cls: "lc-role", text: c.role }) : null,
    c.enrichment ? el("p", { cls: "lc-enrichment", text: c.enrichment }) : null,
    el("p", { cls: "lc-score", text: c.score }),
    el("p", { cls: "lc-counts", text: c.counts }),
    el("h4", { text: "Activity" }),
    el("ul", {}, c.timeline.map((i) => timelineLine(i, i.machine ? "lc-machine" : ""))),
    c.messages.length ? el("h4", { text: "Other tracked messages" }) : null,
    c.messages.length ? el("ul", { cls: "lc-messages" }, c.messages.map(messageLine)) : null,
  ]);
}

/** A contact card with only a line of text: not a contact yet, or not reachable. */
function notice(email, text) {
  const attrs = { "data-lc-contact": email };
  return el("article", { cls: "lc-contact", attrs }, [el("h3", { text: email }), el("p", { text })]);
}

async function contactPanel(email, thread, ask) {
  try {
    return card(await ask("lc.contact", { email }), thread);
  } catch (error) {
    if (error.status === 404) return notice(email, "Not among your contacts yet.");
    return notice(email, `Not available: ${error.message}`);
  }
}

/** Register the sidebar. */
export function register({ adapter, ask }) {
  adapter.onThreadView(async (thread) => {
    const settings = await ask("lc.settings").catch(() => ({ connected: false }));
    if (!settings.connected) return;
    const selves = selfEmails(adapter, settings);
    const others = thread.participants().filter((e) => !selves.has(e.toLowerCase())).slice(0, MAX_CONTACTS);
    if (!others.length) return;
    const current = await thread.threadId().catch(() => null);
    const panels = await Promise.all(others.map((email) => contactPanel(email, current, ask)));
    thread.addSidebar(el("div", { cls: "lc-sidebar", attrs: { "data-lc-panel": "" } }, panels), "Leadcamp");
  });
}
