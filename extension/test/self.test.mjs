import assert from "node:assert/strict";
import { test } from "node:test";

import { otherAccount } from "../src/content/self.js";

const tab = (email) => ({ userEmail: () => email });

test("only the Gmail account the rep connected gets Leadcamp, whatever the case of its address", () => {
  assert.equal(otherAccount(tab("Rep@Acme.test"), { gmailAccount: "rep@acme.test" }), "");
  const why = otherAccount(tab("me@personal.test"), { gmailAccount: "rep@acme.test" });
  assert.match(why, /off in me@personal\.test: it tracks only rep@acme\.test/);
});

test("with no account known yet (not connected, worker silent) the tab is not shut out", () => {
  assert.equal(otherAccount(tab("me@personal.test"), null), "");
  assert.equal(otherAccount(tab("me@personal.test"), { connected: false }), "");
});
