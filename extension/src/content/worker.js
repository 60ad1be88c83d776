// The content script's only way to the server: messages to the service worker, which holds the
// token. Answers are data; nothing secret ever comes back.

export class WorkerError extends Error {
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

/** Listen for what the worker pushes to Gmail tabs (new activity). */
export function onPush(type, handler) {
  chrome.runtime.onMessage.addListener((message, sender) => {
    if (sender.id === chrome.runtime.id && message?.type === type) handler(message);
  });
}
