// Non-secret state in chrome.storage.local: server URL, preferences, the sent-report queue,
// the notifications cursor. Content scripts never read it: they ask the worker.

import { BUILD } from "./build-config.js";

// trackOpens/trackLinks: the rep's defaults for the compose toggles.
const DEFAULT_PREFS = { muted: false, quietStart: "", quietEnd: "", trackOpens: true, trackLinks: true };

/** Keep storage.local to the extension's own pages (content scripts may read it by default). */
export async function restrictStorage() {
  try {
    await chrome.storage.local.setAccessLevel({ accessLevel: "TRUSTED_CONTEXTS" });
  } catch {
    // Older Chrome: nothing secret is kept here anyway.
  }
}

/** A stored value, or `fallback` when there is none. */
export async function load(key, fallback) {
  const found = await chrome.storage.local.get(key);
  return found[key] === undefined ? fallback : found[key];
}

/** Store a value. */
export const save = (key, value) => chrome.storage.local.set({ [key]: value });
/** Forget stored values. */
export const remove = (...keys) => chrome.storage.local.remove(keys);

/** The server's base URL (no trailing slash), or "" when none is set. */
export async function serverUrl() {
  return (await load("serverUrl", BUILD.serverUrl || "")).replace(/\/+$/, "");
}

/** The rep's preferences (notifications, compose defaults), defaults filled in. */
export async function prefs() {
  return { ...DEFAULT_PREFS, ...(await load("prefs", {})) };
}
