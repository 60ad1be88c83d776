// What both adapters read of a rendered message body (Gmail's DOM, so only under gmail/).

/** The `href` of each link the message itself carries, in order; links in quoted text (an
 * earlier mail of the thread) are left out, as they belong to that mail. */
export function linkHrefs(body) {
  if (!body) return [];
  return [...body.querySelectorAll("a[href]")]
    .filter((a) => !a.closest(".gmail_quote, blockquote"))
    .map((a) => a.getAttribute("href") || "");
}
