// Turn an outgoing HTML mail body into a tracked one, with the server's rules
// (server/messages/rewrite.py): every absolute http(s) link goes through the click redirect,
// the open pixel is appended (either part may be left out: opens only, links only), and our
// earlier pixels in quoted text are dropped. Only the new attribute values are spliced into the
// original text; every other byte stays as written.

import { attribute, scan } from "./htmlscan.js";
import { hasScheme, isOwn, isWebScheme, ownHosts, split, unproxied } from "./urls.js";

/** The pixel's tag: 1×1 and visible (never display:none, which some clients skip). */
export const PIXEL_TAG = (src) =>
  `<img src="${src}" width="1" height="1" alt="" style="width:1px;height:1px;border:0;" />`;

const NAMED = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };
const LEGACY = new Set(["amp", "AMP", "lt", "LT", "gt", "GT", "quot", "QUOT", "nbsp"]);

/** Decode character references (numeric, and the named ones links carry). */
function unescapeHtml(text) {
  return text.replace(/&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z]{1,32};?)/g, (whole, ref) => {
    if (ref[0] === "#") {
      const hex = ref[1] === "x" || ref[1] === "X";
      const code = parseInt(ref.slice(hex ? 2 : 1), hex ? 16 : 10);
      if (!code || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return "\ufffd";
      return String.fromCodePoint(code);
    }
    const name = ref.replace(/;$/, "");
    const known = NAMED[name.toLowerCase()];
    if (known === undefined) return whole;
    return ref.endsWith(";") || LEGACY.has(name) ? known : whole;
  });
}

/** HTML-escape a value for a double- or single-quoted attribute (as Python's html.escape). */
function escapeHtml(text) {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#x27;");
}

/** An attribute's value without quotes, references decoded, URL-trimmed. */
export function attrValue(raw) {
  let value = raw;
  if (value.length >= 2 && value[0] === value[value.length - 1] && `'"`.includes(value[0])) {
    value = value.slice(1, -1);
  }
  return unescapeHtml(value).replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, "").replace(/[\t\n\r]/g, "");
}

/** Whether an image source is an open pixel of ours, directly or through Gmail's proxy. */
export function isOurPixel(src, own) {
  const parts = split(unproxied(src));
  if (!parts || !parts.hostname) return false;
  return parts.path.startsWith("/o/") && isOwn(parts, own);
}

function baseUrl(tags) {
  for (const tag of tags) {
    const found = tag.name === "base" ? attribute(tag, "href") : null;
    if (found) {
      const base = attrValue(found.raw);
      const parts = split(base);
      return parts && isWebScheme(parts.scheme) && parts.hostname ? base : null;
    }
  }
  return null;
}

function resolve(href, base) {
  try {
    return new URL(href, base).href;
  } catch {
    return null;
  }
}

/** The absolute http(s) URL a link is tracked as, or null to leave the link alone. */
function linkTarget(href, base, own) {
  if (!href || href.startsWith("#")) return null;
  let target = href;
  if (!hasScheme(href)) {
    target = base === null ? null : resolve(href, base);
    if (target === null) return null;
  }
  const parts = split(target);
  if (!parts || !isWebScheme(parts.scheme) || !parts.hostname) return null;
  return isOwn(parts, own) ? null : target;
}

function atTagBoundary(text, start, end, replacement) {
  // A bare "<" right before the tag is text only because a tag follows it; keep it text.
  if (start && text[start - 1] === "<") return [start - 1, end, `&lt;${replacement}`];
  return [start, end, replacement];
}

function pixelEdits(text, tags, isPixel) {
  const edits = [];
  for (const tag of tags) {
    const found = tag.name === "img" ? attribute(tag, "src") : null;
    if (found && isPixel(attrValue(found.raw))) {
      edits.push(atTagBoundary(text, tag.start, tag.start + tag.text.length, ""));
    }
  }
  return edits;
}

function apply(text, edits) {
  const pieces = [];
  let cursor = 0;
  for (const [start, end, replacement] of [...edits].sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
    pieces.push(text.slice(cursor, start), replacement);
    cursor = end;
  }
  pieces.push(text.slice(cursor));
  return pieces.join("");
}

/** The distinct http(s) link targets of a body, in body order (to sign before `trackHtml`). */
export function linkTargets(html, ownHostList) {
  const own = ownHosts(ownHostList);
  const { tags } = scan(html);
  const base = baseUrl(tags);
  const targets = [];
  for (const tag of tags) {
    const found = tag.name === "a" || tag.name === "area" ? attribute(tag, "href") : null;
    const target = found ? linkTarget(attrValue(found.raw), base, own) : null;
    if (target !== null && !targets.includes(target)) targets.push(target);
  }
  return targets;
}

/** Remove open pixels of ours (direct or Gmail-proxied), leaving all else as is. */
export function stripPixels(html, ownHostList) {
  const own = ownHosts(ownHostList);
  return apply(html, pixelEdits(html, scan(html).tags, (src) => isOurPixel(src, own)));
}

/** Append the pixel, rewrite links through `linkUrl(target)` (sync), strip our old pixels. With
 * no `pixelUrl` (opens not tracked) no pixel is added; with no `linkUrl` (links not tracked) the
 * links stay as written. */
export function trackHtml(html, pixelUrl, linkUrl, ownHostList) {
  const own = ownHosts(ownHostList);
  const found = scan(html);
  const edits = pixelEdits(html, found.tags, (src) => src === pixelUrl || isOurPixel(src, own));
  const base = baseUrl(found.tags);
  const tracked = new Map();
  for (const tag of linkUrl ? found.tags : []) {
    const href = tag.name === "a" || tag.name === "area" ? attribute(tag, "href") : null;
    const target = href ? linkTarget(attrValue(href.raw), base, own) : null;
    if (target === null) continue;
    if (!tracked.has(target)) tracked.set(target, linkUrl(target));
    const quote = `'"`.includes(href.raw[0]) ? href.raw[0] : '"';
    edits.push([href.start, href.end, quote + escapeHtml(tracked.get(target)) + quote]);
  }
  if (pixelUrl) {
    const ends = found.bodyEnds.filter((at) => at < found.unfinished);
    const at = ends.length ? ends[ends.length - 1] : found.unfinished;
    edits.push(atTagBoundary(html, at, at, PIXEL_TAG(escapeHtml(pixelUrl))));
  }
  return { html: apply(html, edits), links: [...tracked.keys()] };
}
