// URL parsing with the semantics of Python's urllib.parse.urlsplit, which the server uses to decide
// what a link is; WHATWG URL would normalise and reject differently.

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
const DEFAULT_PORTS = { http: 80, https: 443 };
const GMAIL_PROXY_SUFFIX = ".googleusercontent.com";

/** {scheme, netloc, hostname, port, path, query, fragment} of a URL, or null if malformed. */
export function split(url) {
  let rest = url.replace(/^[\x00-\x20]+/, "").replace(/[\t\n\r]/g, "");
  let scheme = "";
  const m = SCHEME.exec(rest);
  if (m) {
    scheme = m[1].toLowerCase();
    rest = rest.slice(m[0].length);
  }
  let netloc = "";
  if (rest.startsWith("//")) {
    const end = rest.slice(2).search(/[/?#]/);
    netloc = end < 0 ? rest.slice(2) : rest.slice(2, end + 2);
    rest = end < 0 ? "" : rest.slice(end + 2);
  }
  let fragment = "";
  const hash = rest.indexOf("#");
  if (hash >= 0) [rest, fragment] = [rest.slice(0, hash), rest.slice(hash + 1)];
  const mark = rest.indexOf("?");
  const [path, query] = mark >= 0 ? [rest.slice(0, mark), rest.slice(mark + 1)] : [rest, ""];
  const host = hostPort(netloc);
  return host && { scheme, netloc, ...host, path, query, fragment };
}

/** {hostname, port} of a netloc as urlsplit reads it, or null when malformed. */
function hostPort(netloc) {
  const hostinfo = netloc.slice(netloc.lastIndexOf("@") + 1);
  if ((netloc.includes("[") && !netloc.includes("]")) || (netloc.includes("]") && !netloc.includes("["))) {
    return null;
  }
  let hostname = hostinfo;
  let port = "";
  const bracket = hostinfo.match(/^\[([^\]]*)\](?::(.*))?$/);
  if (bracket) [hostname, port] = [bracket[1], bracket[2] || ""];
  else if (hostinfo.includes(":")) {
    const colon = hostinfo.indexOf(":");
    [hostname, port] = [hostinfo.slice(0, colon), hostinfo.slice(colon + 1)];
  }
  if (port && (!/^\d+$/.test(port) || Number(port) > 65535)) return null;
  return { hostname: hostname.toLowerCase() || null, port: port ? Number(port) : null };
}

/** The address behind Gmail's image proxy (which keeps the original after "#"), else `src`. */
export function unproxied(src) {
  const parts = split(src);
  const proxied = parts && (parts.hostname || "").endsWith(GMAIL_PROXY_SUFFIX) && parts.fragment;
  return proxied ? parts.fragment : src;
}

/** A hostname in one comparable form: lower case, no trailing dot, punycode. */
function comparableHost(name) {
  const lower = name.toLowerCase().replace(/\.+$/, "");
  if (/^[\x00-\x7f]*$/.test(lower)) return lower;
  try {
    return new URL(`http://${lower}/`).hostname;
  } catch {
    return lower;
  }
}

/** Parse `host[:port]` strings (a scheme is tolerated) into comparable "host|port" keys. */
export function ownHosts(hosts) {
  const keys = new Set();
  for (const raw of hosts) {
    const entry = raw.trim();
    const parts = split(entry.includes("//") ? entry : `//${entry}`);
    if (parts && parts.hostname) keys.add(`${comparableHost(parts.hostname)}|${parts.port ?? ""}`);
  }
  return keys;
}

/** Whether a split URL points at one of our hosts (default ports match a bare host). */
export function isOwn(parts, own) {
  const host = comparableHost(parts.hostname || "");
  const fallback = DEFAULT_PORTS[parts.scheme];
  if (parts.port === null || parts.port === fallback) {
    return own.has(`${host}|`) || own.has(`${host}|${fallback ?? ""}`);
  }
  return own.has(`${host}|${parts.port}`);
}

/** Whether a scheme is http or https. */
export function isWebScheme(scheme) {
  return scheme in DEFAULT_PORTS;
}

/** Whether `href` starts with a scheme. */
export const hasScheme = (href) => SCHEME.test(href);
