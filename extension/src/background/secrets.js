// The API token, signing key and connect verifier live in the extension origin's IndexedDB:
// content scripts run with the page's origin and cannot open it, and nothing here is ever sent
// to a content script or the page.

const DB = "leadcamp-secrets";
const STORE = "kv";

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(mode, action) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = action(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** A stored secret, or undefined. */
export const getSecret = (key) => run("readonly", (store) => store.get(key));
/** Store a secret. */
export const setSecret = (key, value) => run("readwrite", (store) => store.put(value, key));
/** Forget a secret. */
export const deleteSecret = (key) => run("readwrite", (store) => store.delete(key));
/** Forget every secret (sign-out). */
export const clearSecrets = () => run("readwrite", (store) => store.clear());
