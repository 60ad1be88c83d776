// Asking the service worker, from the content script and the options page alike: it holds the
// token and talks to the server. Answers are data; nothing secret ever comes back.

class WorkerError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/** Ask the worker; resolves with its result or rejects with a WorkerError. */
export async function ask(type, payload = {}, { timeout = 15000 } = {}) {
  let timer;
  const timedOut = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new WorkerError("the extension did not answer in time", null)), timeout);
  });
  try {
    const answer = await Promise.race([chrome.runtime.sendMessage({ type, ...payload }), timedOut]);
    if (!answer) throw new WorkerError("the extension did not answer", null);
    if (!answer.ok) throw new WorkerError(answer.error, answer.status);
    return answer.result;
  } finally {
    clearTimeout(timer);
  }
}
