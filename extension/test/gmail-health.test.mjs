import assert from "node:assert/strict";
import { test } from "node:test";

import { gmailBanner } from "../src/shared/gmail-health.js";

const gmail = (health, connect_url = "https://lc.test/auth/google") => ({ health, connect_url });

test("a mailbox needing a reconnect or stalled gets a banner linking to the connect page", () => {
  const revoked = gmailBanner(gmail("reconnect_needed"));
  assert.equal(revoked.action, "Reconnect Gmail");
  assert.equal(revoked.url, "https://lc.test/auth/google");
  assert.match(revoked.text, /lost access to your Gmail/);
  assert.match(gmailBanner(gmail("stalled")).text, /has not been able to sync your Gmail/);
});

test("a healthy, unconnected or unknown mailbox gets none", () => {
  assert.equal(gmailBanner(gmail("ok")), null);
  assert.equal(gmailBanner(gmail("not_connected")), null);
  assert.equal(gmailBanner(null), null);
  assert.equal(gmailBanner({ status: "reconnect_needed" }), null); // a server without health
});

test("only an http(s) link from the server is used", () => {
  assert.equal(gmailBanner(gmail("stalled", "javascript:alert(1)")), null);
  assert.equal(gmailBanner(gmail("stalled", "not a url")), null);
  assert.equal(gmailBanner(gmail("stalled", "http://127.0.0.1:5000/auth/google")).url,
    "http://127.0.0.1:5000/auth/google");
});
