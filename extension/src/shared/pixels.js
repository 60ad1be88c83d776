// Recognising our own pixel in a rendered message, directly or through Gmail's image proxy.

import { attribute, scan } from "./htmlscan.js";
import { attrValue, isOurPixel } from "./rewrite.js";
import { isOwn, ownHosts, split, unproxied } from "./urls.js";

const TOKEN = /^\/o\/([A-Za-z0-9_-]{1,16})\.([A-Za-z0-9_-]{1,32})\.[A-Za-z0-9_-]{43}\.gif$/;
const CLICK = /^\/c\/([A-Za-z0-9_-]{1,16})\.([A-Za-z0-9_-]{1,32})\.[A-Za-z0-9_-]{43}\//;

/** The message id of our pixel at `src`, or null. */
export function pixelMessageId(src, ownHostList) {
  if (!isOurPixel(src, ownHosts(ownHostList))) return null;
  const m = TOKEN.exec(split(unproxied(src)).path);
  return m ? m[2] : null;
}

/** The message id of our click link at `href`, or null. */
export function linkMessageId(href, ownHostList) {
  const parts = split(href);
  if (!parts || !parts.hostname || !isOwn(parts, ownHosts(ownHostList))) return null;
  const m = CLICK.exec(parts.path);
  return m ? m[2] : null;
}

/** The message ids our pixels and click links carry in a mail body, in body order: a draft
 * tracked for links only has no pixel to tell its id. */
export function trackedIdsIn(html, ownHostList) {
  const ids = [];
  for (const tag of scan(html).tags) {
    const img = tag.name === "img" ? attribute(tag, "src") : null;
    const link = tag.name === "a" || tag.name === "area" ? attribute(tag, "href") : null;
    const id = img ? pixelMessageId(attrValue(img.raw), ownHostList)
      : link ? linkMessageId(attrValue(link.raw), ownHostList) : null;
    if (id) ids.push(id);
  }
  return ids;
}
