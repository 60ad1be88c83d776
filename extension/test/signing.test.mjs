import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { b64decode, b64encode, b64encodeText } from "../src/shared/base64.js";
import { signer } from "../src/shared/signing.js";

const vectors = JSON.parse(
  readFileSync(new URL("../../tests/vectors/tracking-signatures.json", import.meta.url), "utf8"),
);

test("pixel and click paths match the server's vectors byte for byte", async () => {
  assert.ok(vectors.cases.length >= 2);
  for (const c of vectors.cases) {
    const sign = signer(b64decode(c.key));
    assert.equal(await sign.sign(vectors.purposes.open, c.open.value), c.open.signature);
    assert.equal(await sign.pixelPath(c.kid, c.mid), c.open.path);
    for (const click of c.clicks) {
      assert.equal(b64encodeText(click.url), click.encoded_url);
      assert.equal(await sign.clickPath(c.kid, c.mid, click.url), click.path);
    }
  }
});

test("base64 round-trips and refuses padding or foreign characters", () => {
  const bytes = Uint8Array.from([0, 255, 62, 63, 1, 2]);
  assert.deepEqual(b64decode(b64encode(bytes)), bytes);
  assert.throws(() => b64decode("ab=="));
  assert.throws(() => b64decode("a+b/"));
  assert.throws(() => b64decode("abcde"));
});

test("message ids are bound to the key as the server's vectors are", async () => {
  assert.ok(vectors.message_ids.length >= 2);
  for (const c of vectors.message_ids) {
    assert.equal(await signer(b64decode(c.key)).messageId(c.nonce), c.id);
  }
});

test("fresh message ids are 22 characters, each different", async () => {
  const sign = signer(b64decode(vectors.cases[0].key));
  const ids = new Set(await Promise.all(Array.from({ length: 50 }, () => sign.messageId())));
  assert.equal(ids.size, 50);
  for (const id of ids) assert.match(id, /^[A-Za-z0-9_-]{22}$/);
});
