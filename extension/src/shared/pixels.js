// Recognising our own pixel in a rendered message, directly or through Gmail's image proxy.

import { attribute, scan } from "./htmlscan.js";
import { attrValue, isOurPixel } from "./rewrite.js";
import { ownHosts, split, unproxied } from "./urls.js";

const TOKEN = /^\/o\/([A-Za-z0-9_-]{1,16})\.([A-Za-z0-9_-]{1,32})\.[A-Za-z0-9_-]{43}\.gif$/;

/** The message id of our pixel at `src`, or null. */
export function pixelMessageId(src, ownHostList) {
  if (!isOurPixel(src, ownHosts(ownHostList))) return null;
  const m = TOKEN.exec(split(unproxied(src)).path);
  return m ? m[2] : null;
}

/** The message ids of our pixels in a mail body (a draft's own, or quoted ones). */
export function pixelIdsIn(html, ownHostList) {
  const ids = [];
  for (const tag of scan(html).tags) {
    const src = tag.name === "img" ? attribute(tag, "src") : null;
    const id = src ? pixelMessageId(attrValue(src.raw), ownHostList) : null;
    if (id) ids.push(id);
  }
  return ids;
}
