// In-Gmail notices of new activity, next to the worker's desktop notifications (which it shows
// itself, muted or not as the options say).

import { activityText } from "../../shared/status.js";

/** Register the in-Gmail activity notices. */
export function register({ adapter, onPush }) {
  onPush("lc.activity", ({ events }) => {
    for (const event of events || []) {
      const { title, message } = activityText(event);
      adapter.notify(`${title}: ${message.split("\n")[0]}`);
    }
  });
}
