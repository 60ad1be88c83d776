// Tracking-link signatures with WebCrypto, byte-identical to server/common/signing.py:
// sig = b64url(HMAC-SHA256(HMAC-SHA256(key, purpose), value)) (itsdangerous' "hmac" derivation).

import { b64encode, b64encodeText } from "./base64.js";

export const OPEN = "leadcamp.open";
export const CLICK = "leadcamp.click";
export const MESSAGE_ID = "leadcamp.message-id";

const encoder = new TextEncoder();

async function hmac(keyBytes, data) {
  const key = await crypto.subtle.importKey(
    "raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(data)));
}

/** A signer for one rep's 32-byte key: purpose keys are derived once and reused. */
export function signer(keyBytes) {
  const purposeKeys = new Map();
  async function sign(purpose, value) {
    if (!purposeKeys.has(purpose)) purposeKeys.set(purpose, hmac(keyBytes, purpose));
    return b64encode(await hmac(await purposeKeys.get(purpose), value));
  }
  return {
    sign,
    /** The path of a message's open pixel. */
    async pixelPath(kid, mid) {
      const value = `${kid}.${mid}`;
      return `/o/${value}.${await sign(OPEN, value)}.gif`;
    },
    /** The path of a signed redirect to `url`. */
    async clickPath(kid, mid, url) {
      const encoded = b64encodeText(url);
      const sig = await sign(CLICK, `${kid}.${mid}.${encoded}`);
      return `/c/${kid}.${mid}.${sig}/${encoded}`;
    },
    /**
     * A fresh message id bound to this key (the server refuses ids made otherwise): 14 random
     * characters and the first 8 of their signature, as signing.bound_message_id makes them.
     */
    async messageId(nonce = b64encode(crypto.getRandomValues(new Uint8Array(11))).slice(0, 14)) {
      return nonce + (await sign(MESSAGE_ID, nonce)).slice(0, 8);
    },
  };
}
