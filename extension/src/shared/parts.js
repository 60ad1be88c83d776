// The parts of a message the rep tracks, each a compose toggle: opens (the pixel) and links (the
// click redirects). Neither ticked is an untracked send.

/** The toggles a new compose window starts with: both off when tracking cannot be used or the
 * account's default is not to track; else the rep's own defaults (options page), both on where
 * the rep has none. */
export function defaultParts(settings, usable) {
  if (!usable || settings.trackByDefault === false) return { opens: false, links: false };
  return { opens: settings.trackOpens !== false, links: settings.trackLinks !== false };
}

/** Whether a send with these parts is tracked at all. */
export const anyPart = (parts) => Boolean(parts.opens || parts.links);

/** The report fields naming the parts tracked (the server's `track_opens`, `track_links`). */
export function reportParts(parts) {
  return { track_opens: Boolean(parts.opens), track_links: Boolean(parts.links) };
}
