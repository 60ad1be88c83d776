// What the rep is told in Gmail when the server can no longer read their mailbox: Google revoked
// or expired its access (the 7 days of a Google app in testing mode), or its sync has stalled.
// Pure, so it is tested under Node; the Gmail adapter draws it (InboxSDK's top message bar, or the fake page's).

const WORDS = {
  reconnect_needed:
    "Leadcamp lost access to your Gmail (Google revoked it or it expired): replies and bounces " +
    "are not being recorded until you connect Gmail again.",
  stalled:
    "Leadcamp has not been able to sync your Gmail for a while: replies and bounces are not " +
    "being recorded. Connecting Gmail again often fixes it.",
};

/** The banner for the rep's Gmail health as the server gives it (`gmail` of an activity poll or of `/me`), or null when there is
 * nothing to tell (healthy, not connected, or the server unknown). Only an http(s) link is used:
 * the URL comes from the server. */
export function gmailBanner(gmail) {
  const text = WORDS[gmail?.health];
  if (!text) return null;
  let url;
  try {
    url = new URL(gmail.connect_url);
  } catch {
    return null;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return null;
  return { text, action: "Reconnect Gmail", url: url.href };
}
