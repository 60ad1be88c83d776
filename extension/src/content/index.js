// The content script on mail.google.com: loads the Gmail adapter and registers each feature.

import { loadAdapter } from "gmail-adapter";
import { ask } from "../shared/ask.js";
import * as composeTracking from "./features/compose-tracking.js";
import * as followUp from "./features/follow-up.js";
import * as gmailHealth from "./features/gmail-health.js";
import * as notifications from "./features/notifications.js";
import * as readReceipts from "./features/read-receipts.js";
import * as sidebar from "./features/sidebar.js";
import { otherAccount } from "./self.js";
import { onPush } from "./worker.js";

/* global __LC_BUILD__ */
const FEATURES = [composeTracking, readReceipts, sidebar, followUp, notifications, gmailHealth];

/** Register every feature, unless this tab is another Gmail account's than the rep connected:
 * then nothing is added, tracked or asked of the server, and the rep is told why. */
async function start(adapter) {
  const settings = await ask("lc.settings").catch(() => null);
  const why = otherAccount(adapter, settings);
  if (why) {
    adapter.notify(why);
  } else {
    const context = { adapter, ask, onPush };
    for (const feature of FEATURES) feature.register(context);
    ask("lc.opened").catch(() => {});
  }
  adapter.ready();
}

loadAdapter({ appId: __LC_BUILD__.inboxsdkAppId }).then(start);
