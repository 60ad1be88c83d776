// The options page (also the first-run tab): server URL, connect, the connected account,
// sign-out, preferences (the compose toggles' defaults, notifications). It asks the worker for
// everything.

import { ask } from "../shared/ask.js";

const $ = (id) => document.getElementById(id);
// The stored keys the connection section shows; the worker also stores the activity cursor on
// every poll, which must not redraw anything.
const CONNECTION_KEYS = ["serverUrl", "me", "connectError", "queue"];

/** Show the connection: account, error, queued reports (never touching the preferences form). */
async function renderConnection() {
  const s = await ask("lc.status");
  if (!$("server-url").value) $("server-url").value = s.serverUrl;
  const who = s.me?.user ? `${s.me.user.email} (${s.me.account.name})` : "";
  const connection = `Connected as ${who || "…"} to ${s.serverUrl}.`;
  $("connection").textContent = s.connected ? connection : "Not connected.";
  $("connection").dataset.connected = String(s.connected);
  $("error").textContent = s.connectError ? `Could not connect: ${s.connectError}` : "";
  $("sign-out").hidden = !s.connected;
  const reports = `${s.queued} sent report${s.queued === 1 ? "" : "s"}`;
  $("queue").textContent = s.queued ? `${reports} waiting for the server.` : "";
}

/** Fill the preferences form from storage: once, on load, so what the rep is typing stays. */
async function fillPrefs() {
  const prefs = (await chrome.storage.local.get("prefs")).prefs || {};
  $("muted").checked = Boolean(prefs.muted);
  $("quiet-start").value = prefs.quietStart || "";
  $("quiet-end").value = prefs.quietEnd || "";
  $("track-opens").checked = prefs.trackOpens !== false;
  $("track-links").checked = prefs.trackLinks !== false;
}

$("connect-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("error").textContent = "";
  try {
    const origin = new URL($("server-url").value).origin;
    // Access to the server only, asked for when the rep picks it (no blanket host access).
    const granted = await chrome.permissions.request({ origins: [`${origin}/*`] });
    if (!granted) throw new Error("the extension needs access to that server to talk to it");
    await ask("lc.connect", { serverUrl: origin });
  } catch (error) {
    $("error").textContent = `Could not connect: ${error.message}`;
  }
});

$("sign-out").addEventListener("click", async () => {
  await ask("lc.signOut");
  await renderConnection();
});

$("prefs-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const prefs = {
    muted: $("muted").checked, quietStart: $("quiet-start").value, quietEnd: $("quiet-end").value,
    trackOpens: $("track-opens").checked, trackLinks: $("track-links").checked,
  };
  await ask("lc.prefs", { prefs });
  $("prefs-saved").textContent = "Saved.";
});

chrome.storage.onChanged.addListener((changes) => {
  if (CONNECTION_KEYS.some((key) => key in changes)) renderConnection();
});
Promise.all([renderConnection(), fillPrefs()]).then(() => { document.body.dataset.ready = "true"; });
