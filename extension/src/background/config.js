// Non-secret state in chrome.storage.local: server URL, preferences, the sent-report queue,
// the notifications cursor. Content scripts never read it: they ask the worker.

import { BUILD } from "./build-config.js";

const DEFAULT_PREFS = { muted: false, quietStart: "", quietEnd: "" };

export async function restrictStorage() {
  // Content scripts may read storage.local by default; keep it to the extension's own pages.
  try {
    await chrome.storage.local.setAccessLevel({ accessLevel: "TRUSTED_CONTEXTS" });
  } catch {
    // Older Chrome: nothing secret is kept here anyway.
  }
}

export async function load(key, fallback) {
  const found = await chrome.storage.local.get(key);
  return found[key] === undefined ? fallback : found[key];
}

export const save = (key, value) => chrome.storage.local.set({ [key]: value });
export const remove = (...keys) => chrome.storage.local.remove(keys);

/** The server's base URL (no trailing slash), or "" when none is set. */
export async function serverUrl() {
  return (await load("serverUrl", BUILD.serverUrl || "")).replace(/\/+$/, "");
}

export async function prefs() {
  return { ...DEFAULT_PREFS, ...(await load("prefs", {})) };
}
