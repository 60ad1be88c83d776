import assert from "node:assert/strict";
import { test } from "node:test";

import { b64encodeText } from "../src/shared/base64.js";
import { linkTargets, stripPixels, trackHtml } from "../src/shared/rewrite.js";

const OWN = ["t.example"];
const PIXEL = "https://t.example/o/k1.m2.sig.gif";
const PIXEL_TAG =
  '<img src="https://t.example/o/k1.m2.sig.gif" width="1" height="1" alt="" ' +
  'style="width:1px;height:1px;border:0;" />';
const link = (url) => `https://t.example/c/k1.m2.s/${b64encodeText(url)}`;
const track = (html) => trackHtml(html, PIXEL, link, OWN);

const GMAIL_SIGNATURE =
  '<div dir="ltr">Hi Dana,<div><br></div><div>Here is the ' +
  '<a href="https://acme.example/pricing?plan=pro&amp;seats=5">pricing page</a>.</div>' +
  '<div><br></div><span class="gmail_signature_prefix">-- </span><br>' +
  '<div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature">' +
  '<a href="https://www.linkedin.com/in/sam?utm_source=share&amp;utm_medium=ios_app">LinkedIn</a> · ' +
  '<a href="tel:+15551234567">+1 555 123 4567</a> · ' +
  '<a href="mailto:sam@acme.example?subject=Hi%20Sam">sam@acme.example</a></div></div>';

test("a Gmail body with a signature: http(s) links tracked, tel and mailto left alone", () => {
  const out = track(GMAIL_SIGNATURE);
  assert.deepEqual(out.links, [
    "https://acme.example/pricing?plan=pro&seats=5",
    "https://www.linkedin.com/in/sam?utm_source=share&utm_medium=ios_app",
  ]);
  assert.ok(out.html.includes(`href="${link(out.links[0])}"`));
  assert.ok(out.html.includes('href="tel:+15551234567"'));
  assert.ok(out.html.includes('href="mailto:sam@acme.example?subject=Hi%20Sam"'));
  assert.ok(out.html.endsWith(PIXEL_TAG), "the pixel goes at the end");
  assert.ok(!out.html.includes("display:none"));
});

test("a quoted reply loses our earlier pixels, direct and through Gmail's proxy", () => {
  const quoted =
    '<div>Thanks!</div><div class="gmail_quote"><blockquote>On Mon, Sam wrote:<br>' +
    '<img src="https://t.example/o/k0.old.sig.gif" width="1" height="1">' +
    '<img src="https://ci3.googleusercontent.com/meips/ADKq_Nb=s0-d-e1-ft#' +
    'https://t.example/o/k0.old2.sig.gif">' +
    '<img src="https://acme.example/logo.png"></blockquote></div>';
  const out = track(quoted);
  assert.ok(!out.html.includes("k0.old"));
  assert.ok(out.html.includes("https://acme.example/logo.png"));
  assert.equal(out.html.split("/o/").length, 2, "exactly our new pixel");
  assert.equal(stripPixels(quoted, OWN).includes("/o/"), false);
});

test("tables, <base>, anchors, our own links and odd quoting", () => {
  const body =
    '<base href="https://docs.example/guide/"><table><tr><td><a href=intro.html>Intro</a></td>' +
    "<td><a href='https://acme.example/it&#39;s'>single</a></td>" +
    '<td><a href="#section">anchor</a></td><td><a href="https://t.example/c/x">ours</a></td>' +
    '<td><a title="a > b" href="HTTPS://Acme.Example/Up">upper</a></td></tr></table>';
  const out = track(body);
  assert.deepEqual(out.links, [
    "https://docs.example/guide/intro.html",
    "https://acme.example/it's",
    "HTTPS://Acme.Example/Up",
  ]);
  assert.ok(out.html.includes(`<a href="${link("https://docs.example/guide/intro.html")}">`));
  assert.ok(out.html.includes(`href='${link("https://acme.example/it's")}'`));
  assert.ok(out.html.includes('href="#section"') && out.html.includes('href="https://t.example/c/x"'));
});

test("tracking twice changes nothing (presending may fire twice)", () => {
  const once = track(GMAIL_SIGNATURE).html;
  const twice = trackHtml(once, PIXEL, link, OWN);
  assert.equal(twice.html, once);
  assert.deepEqual(twice.links, []);
});

test("the pixel goes before </body> and before unfinished markup", () => {
  const page = track("<html><body><p>x</p></body></html>").html;
  assert.equal(page, `<html><body><p>x</p>${PIXEL_TAG}</body></html>`);
  assert.equal(track("<p>x</p><!-- open").html, `<p>x</p>${PIXEL_TAG}<!-- open`);
  assert.equal(track("<p>x</p><script>never").html, `<p>x</p>${PIXEL_TAG}<script>never`);
});

test("links inside comments and scripts are not links", () => {
  const body =
    "<!-- <a href='https://acme.example/c'> -->" +
    "<script>'<a href=\"https://acme.example/s\">'</script>";
  assert.deepEqual(linkTargets(body, OWN), []);
});

test("opens only keeps the links as written; links only adds no pixel; both drop old pixels", () => {
  const old = '<img src="https://t.example/o/k0.old.sig.gif">';
  const body = `${GMAIL_SIGNATURE}${old}`;
  const opensOnly = trackHtml(body, PIXEL, null, OWN);
  assert.deepEqual(opensOnly.links, []);
  assert.equal(opensOnly.html, GMAIL_SIGNATURE + PIXEL_TAG);
  const linksOnly = trackHtml(body, null, link, OWN);
  assert.equal(linksOnly.links.length, 2);
  assert.equal(linksOnly.html, track(GMAIL_SIGNATURE).html.replace(PIXEL_TAG, ""));
  assert.equal(trackHtml(body, null, null, OWN).html, GMAIL_SIGNATURE);
});
