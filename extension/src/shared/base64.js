// Unpadded url-safe base64, as the server's signing.b64encode writes it.

/** Bytes to unpadded url-safe base64. */
export function b64encode(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Unpadded url-safe base64 to bytes; throws on anything else. */
export function b64decode(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new Error("not unpadded url-safe base64");
  }
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/** A string's UTF-8 bytes as unpadded url-safe base64. */
export function b64encodeText(text) {
  return b64encode(new TextEncoder().encode(text));
}
