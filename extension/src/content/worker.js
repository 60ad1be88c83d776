// The content script's only way to the server is the service worker, which holds the token:
// requests go through shared/ask.js; what the worker pushes to Gmail tabs arrives here.

/** Listen for what the worker pushes to Gmail tabs (new activity). */
export function onPush(type, handler) {
  chrome.runtime.onMessage.addListener((message, sender) => {
    if (sender.id === chrome.runtime.id && message?.type === type) handler(message);
  });
}
