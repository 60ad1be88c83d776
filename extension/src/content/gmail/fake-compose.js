// The test adapter's compose window over the saved Gmail-like page: every way Gmail sends (Send,
// Ctrl-Enter, Send+Archive, Schedule send), its failures and Undo, with the events InboxSDK gives.

const SEND_URL = "/mail/u/0/fake-send";
const EVENTS = ["presending", "sent", "sendCanceled", "scheduleMenu", "discard", "destroy"];

/** Gmail's undo window for the page (ms; none when unset): a test sets it on <html>. */
const undoWindow = () => Number(document.documentElement.dataset.lcUndoMs || 0);

/** Wait out the undo window; true when the rep pressed Undo in it. */
function undone(root, signal) {
  const button = root.querySelector("[data-lc-undo]");
  button.hidden = false;
  return new Promise((resolve) => {
    const timer = setTimeout(() => { button.hidden = true; resolve(false); }, undoWindow());
    button.addEventListener("click", () => {
      clearTimeout(timer);
      button.hidden = true;
      resolve(true);
    }, { once: true, signal });
  });
}

/** The form's fields and body, its listeners (dropped when the view ends) and its events. */
function formView(root) {
  const on = Object.fromEntries(EVENTS.map((name) => [name, []]));
  const live = new AbortController();
  const field = (name) => root.querySelector(`[name="${name}"]`)?.value || "";
  const addresses = (name) =>
    field(name).split(",").map((s) => s.trim()).filter(Boolean).map((email) => ({ email, name: "" }));
  const view = {
    root, on, live, field, addresses,
    body: root.querySelector("[data-lc-body]"),
    emit: (name, value) => { for (const cb of on[name]) cb(value); },
    click: (selector, handler) =>
      root.querySelector(selector).addEventListener("click", handler, { signal: live.signal }),
    message: (extra) => ({
      to: addresses("to"), cc: addresses("cc"), subject: field("subject"), html: view.body.innerHTML, ...extra,
    }),
    post: (message) => fetch(SEND_URL, { method: "POST", body: JSON.stringify(message) }),
    close(state) {
      root.dataset.lcState = state;
      view.emit("destroy");
      live.abort();
    },
  };
  return view;
}

/** Send (button, Ctrl-Enter, Send+Archive): presending, then Gmail's undo window and request. */
function sending(view, reopen) {
  async function deliver(archive) {
    if (undoWindow() && (await undone(view.root, view.live.signal))) {
      view.live.abort();
      reopen(); // Gmail reopens the draft in a new compose window
      return;
    }
    const response = await view.post(view.message({ archive }));
    // Gmail's "could not send" error: the compose window stays, InboxSDK says sendCanceled.
    if (!response.ok) return view.emit("sendCanceled");
    const ids = await response.json();
    view.root.dataset.lcState = archive ? "sent-archived" : "sent";
    view.emit("sent", { messageId: ids.messageId, threadId: ids.threadId });
  }
  function send({ archive = false } = {}) {
    let cancelled = false;
    view.emit("presending", { archive, cancel: () => { cancelled = true; } });
    // InboxSDK's cancel() is followed by a sendCanceled event, as on the real page.
    if (cancelled) queueMicrotask(() => view.emit("sendCanceled"));
    else deliver(archive);
  }
  view.click("[data-lc-send]", () => send());
  view.click("[data-lc-send-archive]", () => send({ archive: true }));
  view.root.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") send();
  }, { signal: view.live.signal });
  return send;
}

/** Schedule send: the menu's opening (which InboxSDK lets hold), then the time picked. */
function scheduling(view) {
  const menu = view.root.querySelector("[data-lc-schedule-menu]");
  view.click("[data-lc-schedule]", () => {
    let cancelled = false;
    view.emit("scheduleMenu", { cancel: () => { cancelled = true; } });
    if (!cancelled) menu.hidden = false;
  });
  view.click("[data-lc-schedule-at]", async () => {
    menu.hidden = true;
    await view.post(view.message({ scheduled: true }));
    // Gmail files it under Scheduled and closes the window; InboxSDK says nothing was sent.
    view.close("scheduled");
  });
  // InboxSDK reopens the menu with a click that is not the rep's: no scheduleSendMenuOpening.
  return () => { menu.hidden = false; };
}

/** One compose view over the form. Undo ends it and opens a new one over the same draft, as Gmail
 * (and InboxSDK, with a new ComposeView) does. */
function fakeCompose(root, reopen) {
  const view = formView(root);
  const send = sending(view, reopen);
  const openScheduleMenu = scheduling(view);
  view.click("[data-lc-discard]", () => {
    view.emit("discard", { cancel() {} });
    view.close("discarded");
  });
  const listen = (name) => (cb) => view.on[name].push(cb);
  return {
    recipients: () => [...view.addresses("to"), ...view.addresses("cc"), ...view.addresses("bcc")],
    subject: () => view.field("subject"),
    html: () => view.body.innerHTML,
    setHtml: (html) => { view.body.innerHTML = html; },
    send,
    openScheduleMenu,
    statusBar() {
      const bar = root.appendChild(document.createElement("div"));
      view.live.signal.addEventListener("abort", () => bar.remove());
      return bar;
    },
    onPresending: listen("presending"),
    onSent: listen("sent"),
    onSendCanceled: listen("sendCanceled"),
    onScheduleMenu: listen("scheduleMenu"),
    onDiscard: listen("discard"),
    onDestroy: listen("destroy"),
  };
}

/** Each compose form as a compose view, and again (a new view) whenever Undo reopens it. */
export function onCompose(handler) {
  for (const root of document.querySelectorAll("[data-lc-compose]")) {
    const open = () => handler(fakeCompose(root, open));
    open();
  }
}
