// Reads [{html, pixel, own, links}] as JSON on stdin (`pixel` null: opens not tracked; `links`
// false: links not tracked); writes what the extension makes of each body, for
// tests/extension/test_rewrite_parity.py to compare with the server's output byte for byte.
import { b64encodeText } from "../src/shared/base64.js";
import { stripPixels, trackHtml } from "../src/shared/rewrite.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cases = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const link = (url) => `https://t.example/c/${b64encodeText(url)}`;
const out = cases.map(({ html, pixel, own, links = true }) => ({
  ...trackHtml(html, pixel, links ? link : null, own),
  stripped: stripPixels(html, own),
}));
process.stdout.write(JSON.stringify(out));
