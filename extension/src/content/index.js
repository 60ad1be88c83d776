// The content script on mail.google.com: loads the Gmail adapter and registers each feature.

import { loadAdapter } from "gmail-adapter";
import { ask } from "../shared/ask.js";
import * as composeTracking from "./features/compose-tracking.js";
import * as notifications from "./features/notifications.js";
import * as readReceipts from "./features/read-receipts.js";
import * as sidebar from "./features/sidebar.js";
import { onPush } from "./worker.js";

/* global __LC_BUILD__ */
const FEATURES = [composeTracking, readReceipts, sidebar, notifications];

loadAdapter({ appId: __LC_BUILD__.inboxsdkAppId }).then((adapter) => {
  const context = { adapter, ask, onPush };
  for (const feature of FEATURES) feature.register(context);
  adapter.ready();
  ask("lc.opened").catch(() => {});
});
