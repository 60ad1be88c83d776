// The service worker's jobs under Node, with Chrome's storage, IndexedDB and the network faked:
// concurrent polls and queue flushes, which refusals drop a sent report, and the send-time budget.

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

const later = () => new Promise((resolve) => setImmediate(resolve));

// chrome.storage.local answers asynchronously, as Chrome's does, so jobs can interleave.
const storage = new Map();
const notifications = [];
globalThis.__LC_BUILD__ = { serverUrl: "https://lc.example", inboxsdkAppId: "", test: true };
globalThis.chrome = {
  storage: {
    local: {
      async get(key) {
        await later();
        return storage.has(key) ? { [key]: structuredClone(storage.get(key)) } : {};
      },
      async set(items) {
        await later();
        for (const [key, value] of Object.entries(items)) storage.set(key, structuredClone(value));
      },
      async remove(keys) {
        for (const key of keys) storage.delete(key);
      },
    },
  },
  notifications: { create: (id, options) => notifications.push({ id, ...options }) },
  tabs: { query: async () => [], sendMessage: async () => {} },
  declarativeNetRequest: { updateDynamicRules: async () => {} },
};

// The secrets store (IndexedDB in the extension's origin): just enough of the request API.
const secrets = new Map();
globalThis.indexedDB = {
  open() {
    const request = {};
    const db = {
      close() {},
      transaction() {
        const tx = {};
        const done = (result) => {
          const r = { result };
          setImmediate(() => tx.oncomplete());
          return r;
        };
        tx.objectStore = () => ({
          get: (key) => done(secrets.get(key)),
          put: (value, key) => done(secrets.set(key, value) && key),
          delete: (key) => done(secrets.delete(key)),
          clear: () => done(secrets.clear()),
        });
        return tx;
      },
    };
    setImmediate(() => {
      request.result = db;
      request.onsuccess();
    });
    return request;
  },
};

// The server: `route(method, path, body)` answers [status, json] (or a promise of it).
let route = () => [404, {}];
const requests = [];
const timeoutOf = new WeakMap();
const abortAfter = AbortSignal.timeout.bind(AbortSignal);
AbortSignal.timeout = (ms) => {
  const signal = abortAfter(ms);
  timeoutOf.set(signal, ms);
  return signal;
};
globalThis.fetch = async (url, options) => {
  const path = url.replace("https://lc.example/api/v1", "");
  const body = options.body && JSON.parse(options.body);
  requests.push({ method: options.method, path, body, timeout: timeoutOf.get(options.signal) });
  const [status, json] = await route(options.method, path, body);
  await new Promise((resolve) => setTimeout(resolve, 1)); // a timeout of 0 ms has fired by now
  if (options.signal.aborted) throw options.signal.reason;
  return new Response(JSON.stringify(json), { status, headers: { "Content-Type": "application/json" } });
};

const { pollActivity } = await import("../src/background/notify.js");
const { flushQueue, reportSent, track } = await import("../src/background/tracking.js");

beforeEach(() => {
  storage.clear();
  secrets.clear();
  secrets.set("token", "t0ken");
  notifications.length = 0;
  requests.length = 0;
});

/** A promise the test resolves by hand: a server answer held back while other jobs start. */
function held() {
  let release;
  const promise = new Promise((resolve) => { release = resolve; });
  return { promise, release };
}

test("polls started together (alarm, half-way poll, Gmail opening) show each event once", async () => {
  const open = { id: "e1", kind: "open", verdict: "human", subject: "Pricing", location: null };
  route = async (method, path) => {
    await later();
    return [200, { events: path.includes("after=c1") ? [] : [open], cursor: "c1" }];
  };
  const shown = await Promise.all([pollActivity(), pollActivity(), pollActivity()]);
  await pollActivity(); // and a later poll, from the stored cursor
  assert.deepEqual(notifications.map((n) => n.id), ["lc-e1"]);
  assert.deepEqual(shown.map((events) => events.length), [1, 1, 1], "they share the one poll");
  assert.deepEqual(requests.map((r) => r.path), ["/activity", "/activity?after=c1"]);
});

test("a report queued while the queue is being delivered is delivered once, and none is lost", async () => {
  const first = held();
  const posted = [];
  route = async (method, path, body) => {
    posted.push(body.id);
    if (body.id === "a") await first.promise;
    return [201, { id: body.id }];
  };
  const a = reportSent({ id: "a", subject: "A", recipients: [] });
  while (!posted.length) await later();
  const c = reportSent({ id: "c", subject: "C", recipients: [] }); // sent while "a" is in flight
  await later();
  first.release();
  await Promise.all([a, c]);
  await flushQueue();
  assert.deepEqual(posted, ["a", "c"]);
  assert.deepEqual(storage.get("queue"), []);
});

test("a report the server refuses for good is dropped; one it refuses for now is kept", async () => {
  const answers = { bad: 422, dup: 409, revoked: 401, limited: 429 };
  route = (method, path, body) => [answers[body.id] || 201, {}];
  storage.set("queue", ["bad", "dup", "revoked", "ok"].map((id) => ({ id })));
  assert.deepEqual(await flushQueue(), { queued: 2 });
  assert.deepEqual(storage.get("queue").map((r) => r.id), ["revoked", "ok"]);

  delete answers.revoked; // signed in again
  answers.ok = 429;
  assert.deepEqual(await flushQueue(), { queued: 1 });
  assert.deepEqual(storage.get("queue").map((r) => r.id), ["ok"]);
  delete answers.ok;
  assert.deepEqual(await flushQueue(), { queued: 0 });
  assert.deepEqual(requests.map((r) => r.body.id), ["bad", "dup", "revoked", "revoked", "ok", "ok"]);
});

const ME = {
  user: { email: "rep@acme.test" },
  tracking: { enabled: true, track_by_default: true, tracking_host: "lc.example" },
};
const KEY = { kid: "k1", key: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", base_url: "https://lc.example" };
const MESSAGE = { html: "<p>Hi</p>", recipients: [{ email: "lead@example.org", name: "" }] };

test("a send checks the server within one 4 s budget and fetches the key only when needed", async () => {
  route = async (method, path) => {
    await new Promise((resolve) => setTimeout(resolve, 100));
    return path === "/me" ? [200, ME] : [200, KEY];
  };
  const tracked = await track(MESSAGE);
  assert.equal(tracked.tracked, true);
  assert.match(tracked.html, /https:\/\/lc\.example\/o\/k1\./);
  assert.deepEqual(requests.map((r) => r.path), ["/me", "/signing-key"]);
  const [me, key] = requests;
  assert.ok(me.timeout <= 4000, `/me may take ${me.timeout} ms`);
  // /me took 100 ms of the budget: the key gets what is left, not 4 s of its own.
  assert.ok(key.timeout > 0 && key.timeout <= 3950, `the key may take ${key.timeout} ms`);

  requests.length = 0; // the next send: the key is known, only the account is checked
  assert.equal((await track(MESSAGE)).tracked, true);
  assert.deepEqual(requests.map((r) => r.path), ["/me"]);
});

test("an old key still signs when the server does not hand out a new one in time", async () => {
  secrets.set("signingKey", { kid: "k0", key: KEY.key, baseUrl: KEY.base_url, fetchedAt: 0 });
  route = (method, path) => (path === "/me" ? [200, ME] : [503, {}]);
  const tracked = await track(MESSAGE);
  assert.equal(tracked.tracked, true);
  assert.match(tracked.html, /\/o\/k0\./);
  assert.deepEqual(requests.map((r) => r.path), ["/me", "/signing-key"]);
});

test("a send whose account check used up the budget does not wait for the key", async () => {
  const realNow = Date.now;
  let late = 0;
  Date.now = () => realNow() + late;
  route = (method, path) => {
    if (path === "/me") late = 4500; // the answer came, but only after the whole budget
    return path === "/me" ? [200, ME] : [200, KEY];
  };
  try {
    const result = await track(MESSAGE);
    assert.deepEqual(result, { tracked: false, reason: "the Leadcamp server cannot be reached" });
    assert.deepEqual(requests.map((r) => [r.path, r.timeout]), [["/me", 4000], ["/signing-key", 0]]);
  } finally {
    Date.now = realNow;
  }
});
