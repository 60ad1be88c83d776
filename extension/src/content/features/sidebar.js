// The lead sidebar of a thread: each other participant as the server knows them — enrichment,
// engagement score and timeline, and the other tracked messages with them.

import { contactCard } from "../../shared/status.js";
import { el } from "../dom.js";

const MAX_CONTACTS = 5;

function card(contact) {
  const c = contactCard(contact);
  return el("article", { cls: "lc-contact", attrs: { "data-lc-contact": c.email } }, [
    el("h3", { text: c.heading }),
    el("p", { cls: "lc-email", text: c.email }),
    c.role ? el("p", { cls: "lc-role", text: c.role }) : null,
    c.enrichment ? el("p", { cls: "lc-enrichment", text: c.enrichment }) : null,
    el("p", { cls: "lc-score", text: c.score }),
    el("p", { cls: "lc-counts", text: c.counts }),
    el("h4", { text: "Activity" }),
    el("ul", {}, c.timeline.map((i) => el("li", { cls: i.machine ? "lc-machine" : "" }, [el("time", { text: i.at }), el("span", { text: ` ${i.text}` })]))),
    el("h4", { text: "Tracked messages" }),
    el("ul", {}, c.messages.map((m) => el("li", {}, [el("strong", { text: m.subject }), el("span", { text: ` ${m.detail}` })]))),
  ]);
}

function placeholder(email, text) {
  return el("article", { cls: "lc-contact", attrs: { "data-lc-contact": email } }, [el("h3", { text: email }), el("p", { text })]);
}

async function contactPanel(email, ask) {
  try {
    return card(await ask("lc.contact", { email }));
  } catch (error) {
    if (error.status === 404) return placeholder(email, "Not among your contacts yet.");
    return placeholder(email, `Not available: ${error.message}`);
  }
}

/** Register the sidebar. */
export function register({ adapter, ask }) {
  adapter.onThreadView(async (thread) => {
    const settings = await ask("lc.settings").catch(() => ({ connected: false }));
    if (!settings.connected) return;
    const selves = new Set([adapter.userEmail(), settings.email].filter(Boolean).map((e) => e.toLowerCase()));
    const others = thread.participants().filter((e) => !selves.has(e.toLowerCase())).slice(0, MAX_CONTACTS);
    if (!others.length) return;
    const panels = await Promise.all(others.map((email) => contactPanel(email, ask)));
    thread.addSidebar(el("div", { cls: "lc-sidebar", attrs: { "data-lc-panel": "" } }, panels), "Leadcamp");
  });
}
