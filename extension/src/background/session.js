// Connecting to the server (one-time code + PKCE verifier), the rep's account, sign-out.

import { b64encode } from "../shared/base64.js";
import { api, Unreachable } from "./api.js";
import { load, remove, save, serverUrl } from "./config.js";
import { clearRules, updateRules } from "./dnr.js";
import { clearSecrets, deleteSecret, getSecret, setSecret } from "./secrets.js";

const ME_MAX_AGE = 5 * 60 * 1000;
// The key changes only when the server rotates it; old keys keep verifying for a while, so a send
// need not wait for it. Refreshed with the account once this old.
const KEY_MAX_AGE = 60 * 60 * 1000;

async function sha256(text) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Open the server's connect page for the rep to confirm; the code comes back to `onTabUrl`. */
export async function startConnect(url) {
  const base = new URL(url).origin;
  await save("serverUrl", base);
  const verifier = b64encode(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = b64encode(await sha256(verifier));
  // Stored first: the code may come back before the tab has even finished opening.
  await setSecret("pending", { verifier, base, at: Date.now() });
  await chrome.tabs.create({ url: `${base}/auth/extension/connect?challenge=${challenge}` });
}

/** Watch tabs while a connect is pending: the URL fragment carries the one-time code. Any tab, not
 * only the one we opened: a rep who signs in by magic link confirms in the tab the mail opened.
 * The code alone is worthless; only this worker's verifier turns it into a token. */
export async function onTabUrl(tabId, url) {
  const pending = await getSecret("pending");
  if (!pending || !url) return;
  const prefix = `${pending.base}/auth/extension/connected#code=`;
  if (!url.startsWith(prefix)) return;
  await deleteSecret("pending");
  const code = url.slice(prefix.length);
  try {
    const answer = await api("/extension/token", {
      method: "POST", body: { code, verifier: pending.verifier }, token: null,
    });
    await setSecret("token", answer.token);
    await remove("pollPlan"); // polls stopped by a revoked sign-in start again
    await deleteSecret("signingKey"); // a new connection signs with its own server's key
    await save("connectError", "");
    await refreshAccount();
    await chrome.tabs.remove(tabId).catch(() => {});
  } catch (error) {
    await save("connectError", error.message);
  }
}

/** The signing key: the stored one while recent, else fetched within `deadline` (the stored one
 * still serves if the server does not answer in time). */
async function signingKey(deadline) {
  const stored = await getSecret("signingKey");
  if (stored && Date.now() - (stored.fetchedAt || 0) < KEY_MAX_AGE) return stored;
  try {
    // Whatever is left of the budget (none left: the request fails at once, as unreachable).
    const key = await api("/signing-key", { timeout: Math.max(deadline - Date.now(), 0) });
    const fresh = { kid: key.kid, key: key.key, baseUrl: key.base_url, fetchedAt: Date.now() };
    await setSecret("signingKey", fresh);
    return fresh;
  } catch (error) {
    if (stored && error instanceof Unreachable) return stored;
    throw error;
  }
}

/** Our own hosts: the account's tracking host and the one the signing key's links point at. */
export function trackingHosts(me, key) {
  return [me.tracking.tracking_host, new URL(key.baseUrl).host];
}

/** Fetch /me (and the signing key when needed), all within `budget` ms; keep the key secret and
 * the rest for the options page. */
export async function refreshAccount({ budget = 10000 } = {}) {
  const deadline = Date.now() + budget;
  const me = await api("/me", { timeout: budget });
  const key = await signingKey(deadline);
  await save("me", { ...me, fetchedAt: Date.now() });
  await updateRules(trackingHosts(me, key));
  return me;
}

/** The rep's account, refreshed when stale (within `budget` ms); null when not connected. */
export async function account({ fresh = false, budget } = {}) {
  if (!(await getSecret("token"))) return null;
  const me = await load("me", null);
  if (me && !fresh && Date.now() - me.fetchedAt < ME_MAX_AGE) return me;
  try {
    return await refreshAccount({ budget });
  } catch (error) {
    if (error instanceof Unreachable && me && !fresh) return me;
    throw error;
  }
}

/** Revoke the token at the server (best effort) and forget everything local. */
export async function signOut() {
  try {
    await api("/extension/token", { method: "DELETE", timeout: 5000 });
  } catch {
    // Unreachable or already revoked: forgetting it here is what matters to this browser.
  }
  await clearSecrets();
  await remove("me", "cursor", "seen", "queue", "pollPlan", "gmailHealth");
  await clearRules();
}

/** What the options page shows. */
export async function status() {
  return {
    serverUrl: await serverUrl(),
    connected: Boolean(await getSecret("token")),
    me: await load("me", null),
    connectError: await load("connectError", ""),
    queued: (await load("queue", [])).length,
  };
}
