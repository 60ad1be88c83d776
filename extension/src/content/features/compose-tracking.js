// Compose tracking: a per-message switch, and on presending the body signed and tracked by the
// worker. A send is never blocked: anything that goes wrong sends the mail untracked and says why.

import { el } from "../dom.js";

const PREPARE_TIMEOUT = 8000;

function withTimeout(promise, ms) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve({ tracked: false, reason: "tracking took too long" }), ms))]);
}

function statusBar(compose, initial, note) {
  const box = el("input", { attrs: { type: "checkbox", "data-lc-track": "" } });
  box.checked = initial;
  const text = el("span", { cls: "lc-note", text: note, attrs: { "data-lc-note": "" } });
  compose.statusBar().append(el("label", { cls: "lc-track" }, [box, el("span", { text: " Track opens and clicks " }), text]));
  return { enabled: () => box.checked, say: (message) => { text.textContent = message; } };
}

function onlyToSelf(recipients, selves) {
  return recipients.every((r) => selves.has(r.email.toLowerCase()));
}

async function handleCompose(compose, { adapter, ask }) {
  const settings = await ask("lc.settings").catch((error) => ({ connected: false, reason: error.message }));
  const usable = settings.connected && settings.trackingEnabled !== false;
  const bar = statusBar(compose, usable && settings.trackByDefault !== false, usable ? "" : `(off: ${settings.reason || "tracking is off for your account"})`);
  const selves = new Set([adapter.userEmail(), settings.email].filter(Boolean).map((e) => e.toLowerCase()));
  const state = { ready: false, mid: null, pending: null };

  function goOut(result, message) {
    if (result.tracked) {
      compose.setHtml(result.html);
      state.mid = result.mid;
      state.pending = { id: result.mid, ...message };
    } else {
      state.pending = null;
      const why = `Sent untracked: ${result.reason}.`;
      bar.say(why);
      adapter.notify(why);
    }
    state.ready = true;
    compose.send();
  }

  compose.onPresending((event) => {
    // Our own re-send after tracking (or a second presending) goes straight through.
    if (state.ready) return;
    const recipients = compose.recipients();
    if (!bar.enabled() || !recipients.length || onlyToSelf(recipients, selves)) return;
    event.cancel();
    // Taken now: once sent, the compose view may be gone.
    const message = { subject: compose.subject(), recipients };
    const request = ask("lc.track", { html: compose.html(), recipients, mid: state.mid }, { timeout: PREPARE_TIMEOUT });
    withTimeout(request, PREPARE_TIMEOUT)
      .catch((error) => ({ tracked: false, reason: error.message }))
      .then((result) => goOut(result, message));
  });

  compose.onSent(({ messageId, threadId }) => {
    if (!state.pending) return;
    const report = {
      id: state.pending.id,
      subject: state.pending.subject,
      recipients: state.pending.recipients,
      sent_at: new Date().toISOString(),
      gmail_message_id: messageId || undefined,
      gmail_thread_id: threadId || undefined,
    };
    state.pending = null;
    ask("lc.sent", { report }).catch(() => {}); // the worker queues and retries it
  });
}

/** Register compose tracking. */
export function register(context) {
  context.adapter.onCompose((compose) => handleCompose(compose, context));
}
