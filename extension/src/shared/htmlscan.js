// Where the tags are in a mail body, found the way the server finds them (Python's html.parser in
// its tolerant mode, see server/messages/rewrite.py), so both rewrite the same tags.
// Nothing is re-serialised: callers splice new values into the original text.

const WATCHED = new Set(["a", "area", "img", "base"]);
const RAW_TEXT = new Set(["script", "style"]);
const TAG_NAME = /<[a-zA-Z][^\t\n\r\f />\x00]*(?:\s|\/(?!>))*/y;
const TAG_FIND = /([a-zA-Z][^\t\n\r\f />\x00]*)(?:\s|\/(?!>))*/y;
const ATTR =
  /((?<=['"\s/])[^\s/>][^\s/=>]*)(\s*=+\s*('[^']*'|"[^"]*"|(?!['"])[^>\s]*))?(?:\s|\/(?!>))*/y;
const START_TAG_END = new RegExp(
  "<[a-zA-Z][^\\t\\n\\r\\f />\\x00]*(?:[\\s/]*(?:(?<=['\"\\s/])[^\\s/>][^\\s/=>]*" +
    "(?:\\s*=+\\s*(?:'[^']*'|\"[^\"]*\"|(?!['\"])[^>\\s]*)\\s*)?(?:\\s|/(?!>))*)*)?\\s*",
  "y",
);
const END_TAG = /<\/\s*([a-zA-Z][-.a-zA-Z0-9:_]*)\s*>/y;
const COMMENT_CLOSE = /--\s*>/g;
const LETTERS = /[a-zA-Z=/]/;

function matchAt(regex, text, at) {
  regex.lastIndex = at;
  return regex.exec(text);
}

function afterNext(text, char, from) {
  const at = text.indexOf(char, from);
  return at < 0 ? -1 : at + 1;
}

function wholeStartTag(text, i) {
  const j = i + matchAt(START_TAG_END, text, i)[0].length;
  const next = text.charAt(j);
  if (next === ">") return j + 1;
  if (next === "/") return text.startsWith("/>", j) ? j + 2 : -1;
  if (next === "" || LETTERS.test(next)) return -1;
  return j > i ? j : i + 1;
}

function startTag(text, i, out) {
  const end = wholeStartTag(text, i);
  if (end < 0) return { end };
  const name = matchAt(TAG_FIND, text, i + 1);
  const tag = name[1].toLowerCase();
  let k = i + 1 + name[0].length;
  while (k < end) {
    const m = matchAt(ATTR, text, k);
    if (!m) break;
    k += m[0].length;
  }
  const rest = text.slice(k, end).trim();
  if (rest !== ">" && rest !== "/>") return { end };
  if (tag === "script" || tag === "style") out.rawTextStart = i;
  if (WATCHED.has(tag)) out.tags.push({ name: tag, start: i, text: text.slice(i, end) });
  return { end, rawText: rest === ">" && RAW_TEXT.has(tag) ? tag : null };
}

function endTag(text, i, out) {
  const gt = afterNext(text, ">", i + 1);
  if (gt < 0) return -1;
  const m = matchAt(END_TAG, text, i);
  if (m) {
    if (m[1].toLowerCase() === "body") out.bodyEnds.push(i);
    return gt;
  }
  const name = matchAt(TAG_FIND, text, i + 2);
  if (!name) return text.startsWith("</>", i) ? i + 3 : afterNext(text, ">", i + 2);
  if (name[1].toLowerCase() === "body") out.bodyEnds.push(i);
  return text.indexOf(">", i + 2 + name[0].length) + 1;
}

function comment(text, i) {
  COMMENT_CLOSE.lastIndex = i + 4;
  const m = COMMENT_CLOSE.exec(text);
  return m ? m.index + m[0].length : -1;
}

function markup(text, i, out) {
  if (/[a-zA-Z]/.test(text.charAt(i + 1))) return startTag(text, i, out);
  if (text.startsWith("</", i)) return { end: endTag(text, i, out) };
  if (text.startsWith("<!--", i)) return { end: comment(text, i) };
  if (text.startsWith("<?", i)) return { end: afterNext(text, ">", i + 2) };
  if (text.slice(i, i + 9).toLowerCase() === "<!doctype") return { end: afterNext(text, ">", i + 9) };
  if (text.startsWith("<!", i)) return { end: afterNext(text, ">", i + 2) };
  return { end: i + 1 < text.length ? i + 1 : -2 };
}

function skipUnfinished(text, i) {
  // As html.parser's close(): unfinished markup is text up to the next ">" (or "<").
  const gt = text.indexOf(">", i + 1);
  if (gt >= 0) return gt + 1;
  const lt = text.indexOf("<", i + 1);
  return lt >= 0 ? lt : i + 1;
}

/**
 * The watched tags (a, area, img, base) with their exact source text and offset, each real
 * `</body>` offset, and where unfinished markup at the end begins (browsers swallow what follows).
 */
export function scan(text) {
  const out = { tags: [], bodyEnds: [], rawTextStart: 0, unfinished: text.length };
  let i = 0;
  let closing = false; // past the first unfinished construct: html.parser's close() phase
  let rawText = null;
  while (i < text.length) {
    if (rawText) {
      const close = new RegExp(`</\\s*${rawText}\\s*>`, "ig");
      close.lastIndex = i;
      const m = close.exec(text);
      if (!m) {
        if (!closing) out.unfinished = out.rawTextStart;
        break;
      }
      i = m.index + m[0].length;
      rawText = null;
      continue;
    }
    const lt = text.indexOf("<", i);
    if (lt < 0) break;
    const step = markup(text, lt, out);
    if (step.end === -2) {
      if (!closing) out.unfinished = lt;
      break;
    }
    if (step.end < 0) {
      if (!closing) out.unfinished = lt;
      closing = true;
      i = skipUnfinished(text, lt);
      continue;
    }
    rawText = step.rawText || null;
    i = step.end;
  }
  return out;
}

/** The raw value (quotes included) of a tag's first `name` attribute and its span, or null. */
export function attribute(tag, name) {
  const head = matchAt(TAG_NAME, tag.text, 0);
  let position = head ? head[0].length : tag.text.length;
  while (position < tag.text.length) {
    const m = matchAt(ATTR, tag.text, position);
    if (!m) break;
    if (m[1].toLowerCase() === name) {
      if (m[2] === undefined) return null;
      const valueStart = position + m[1].length + m[2].length - m[3].length;
      return { raw: m[3], start: tag.start + valueStart, end: tag.start + valueStart + m[3].length };
    }
    position += m[0].length;
  }
  return null;
}
