// Follow-up reminders in a thread's sidebar: "Remind me if no reply in [N] days" on the rep's
// latest tracked message of the thread; set, set again or cancel, with the due date shown. The
// server fires it (a notification, like new activity) unless the lead has replied by then.

import { FOLLOW_UP_DAYS, followUpState, followUpTarget, parseDays } from "../../shared/status.js";
import { el } from "../dom.js";

function controls() {
  const days = el("input", {
    attrs: {
      type: "number", min: String(FOLLOW_UP_DAYS.min), max: String(FOLLOW_UP_DAYS.max),
      value: String(FOLLOW_UP_DAYS.default), "aria-label": "Days", "data-lc-follow-up-days": "",
    },
  });
  return {
    days,
    state: el("p", { cls: "lc-follow-up-state", attrs: { "data-lc-follow-up-state": "" } }),
    set: el("button", { text: "Remind me", attrs: { type: "button", "data-lc-follow-up-set": "" } }),
    cancel: el("button", { text: "Cancel reminder", attrs: { type: "button", "data-lc-follow-up-cancel": "" } }),
    error: el("p", { cls: "lc-note", attrs: { role: "alert", "data-lc-follow-up-error": "" } }),
  };
}

/** The panel for one message: its reminder's state and the control to set or cancel it. */
function panel(message, ask) {
  const c = controls();
  const show = (followUp) => {
    const s = followUpState(followUp);
    c.state.textContent = s.text;
    c.cancel.hidden = !s.active;
    c.set.textContent = s.active ? "Set again" : "Remind me";
    if (followUp?.days) c.days.value = String(followUp.days);
  };
  const run = async (type, payload) => {
    c.error.textContent = "";
    c.set.disabled = c.cancel.disabled = true;
    try {
      show((await ask(type, { mid: message.id, ...payload })).follow_up);
    } catch (error) {
      c.error.textContent = error.status === 404
        ? "Only the sender of this message can set its reminder."
        : `Not saved: ${error.message}`;
    } finally {
      c.set.disabled = c.cancel.disabled = false;
    }
  };
  c.set.addEventListener("click", () => {
    const days = parseDays(c.days.value);
    if (days === null) {
      c.error.textContent = `Enter whole days from ${FOLLOW_UP_DAYS.min} to ${FOLLOW_UP_DAYS.max}.`;
      return;
    }
    run("lc.followUp", { days });
  });
  c.cancel.addEventListener("click", () => run("lc.cancelFollowUp"));
  show(message.follow_up);
  return el("section", { cls: "lc-sidebar lc-follow-up", attrs: { "data-lc-follow-up": message.id } }, [
    el("h4", { text: "Follow-up" }),
    c.state,
    el("label", {}, [el("span", { text: "Remind me if no reply in " }), c.days, el("span", { text: " days" })]),
    c.set,
    c.cancel,
    c.error,
  ]);
}

/** Register the follow-up control. */
export function register({ adapter, ask }) {
  adapter.onThreadView(async (thread) => {
    const id = await thread.threadId().catch(() => null);
    if (!id) return;
    const answer = await ask("lc.threads", { threadIds: [id] }).catch(() => null);
    const message = followUpTarget(answer?.threads?.[id]);
    if (message) thread.addSidebar(panel(message, ask), "Leadcamp follow-up");
  });
}
