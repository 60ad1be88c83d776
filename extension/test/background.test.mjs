import assert from "node:assert/strict";
import { test } from "node:test";

import { pixelRules } from "../src/background/dnr.js";
import { pixelMessageId } from "../src/shared/pixels.js";
import { activityText, inQuietHours } from "../src/shared/status.js";

const SIG = "iM1fGXD1X88yPZVCqya41EsDXeeVrrPAQkdkdKI6Ny4";
const PIXEL = `https://t.example/o/Ab3_x-9Q.q2X0c1ZPq0nqz7lU4m2GdA.${SIG}.gif`;
const PROXIED = `https://ci3.googleusercontent.com/meips/ADKq_NZ8=s0-d-e1-ft#${PIXEL}`;

test("the block rules catch our pixel direct and proxied, from Gmail only, and nothing else", () => {
  const [direct, proxied] = pixelRules(["t.example", "T.example", "127.0.0.1:5000"]);
  for (const rule of [direct, proxied]) {
    assert.equal(rule.action.type, "block");
    assert.deepEqual(rule.condition.initiatorDomains, ["mail.google.com"]);
    assert.deepEqual(rule.condition.resourceTypes, ["image"]);
  }
  const d = new RegExp(direct.condition.regexFilter);
  const p = new RegExp(proxied.condition.regexFilter);
  assert.ok(d.test(PIXEL));
  assert.ok(d.test(`http://127.0.0.1:5000/o/k.m.${SIG}.gif`));
  assert.ok(p.test(PROXIED));
  assert.ok(!d.test("https://t.example/c/k.m.sig/aHR0cHM6Ly9leGFtcGxlLmNvbS8"), "links are not blocked");
  assert.ok(!d.test(`https://txexample/o/k.m.${SIG}.gif`), "dots are literal");
  assert.ok(!d.test(`https://evil.example/o/k.m.${SIG}.gif`));
  assert.ok(!p.test(`https://ci3.googleusercontent.com/meips/x#https://evil.example/o/k.m.${SIG}.gif`));
});

test("our pixel's message id, direct or through Gmail's proxy", () => {
  assert.equal(pixelMessageId(PIXEL, ["t.example"]), "q2X0c1ZPq0nqz7lU4m2GdA");
  assert.equal(pixelMessageId(PROXIED, ["t.example"]), "q2X0c1ZPq0nqz7lU4m2GdA");
  assert.equal(pixelMessageId(PIXEL, ["other.example"]), null);
  assert.equal(pixelMessageId("https://t.example/logo.png", ["t.example"]), null);
});

test("quiet hours, including ones that span midnight", () => {
  const at = (h, m = 0) => new Date(2026, 10, 25, h, m);
  assert.equal(inQuietHours(at(23), "22:00", "07:00"), true);
  assert.equal(inQuietHours(at(6, 59), "22:00", "07:00"), true);
  assert.equal(inQuietHours(at(7), "22:00", "07:00"), false);
  assert.equal(inQuietHours(at(12, 30), "12:00", "13:00"), true);
  assert.equal(inQuietHours(at(13), "12:00", "13:00"), false);
  assert.equal(inQuietHours(at(12), "", "13:00"), false);
  assert.equal(inQuietHours(at(12), "25:00", "13:00"), false);
});

test("notification texts name the message and never the proxy's location", () => {
  const leeds = { city: "Leeds", region: "England", country: "GB" };
  const open = { kind: "open", verdict: "human", subject: "Pricing", location: leeds };
  assert.deepEqual(activityText(open), { title: "Email opened", message: "Pricing\nLeeds, England, GB" });
  assert.deepEqual(
    activityText({ ...open, verdict: "proxy", location: null }),
    { title: "Email opened", message: "Pricing" },
  );
  assert.deepEqual(
    activityText({ kind: "click", subject: "", link: "https://a.example/" }),
    { title: "Link clicked", message: "(no subject)\nhttps://a.example/" },
  );
  assert.deepEqual(
    activityText({ kind: "reply", subject: "Re: x" }),
    { title: "Reply received", message: "Re: x" },
  );
});

test("the message ids of our pixels in a body, quoted or proxied, and no one else's", async () => {
  const { trackedIdsIn } = await import("../src/shared/pixels.js");
  const html = `<p>Hi</p><img src="${PIXEL}"><blockquote><img src='${PROXIED.replace("#", "&#35;")}'></blockquote>` +
    `<img src="https://evil.example/o/k.m.${SIG}.gif"><a href="${PIXEL}">not an image</a>`;
  assert.deepEqual(trackedIdsIn(html, ["t.example"]), ["q2X0c1ZPq0nqz7lU4m2GdA", "q2X0c1ZPq0nqz7lU4m2GdA"]);
  assert.deepEqual(trackedIdsIn(html, ["other.example"]), []);
});
