// A "Reconnect Gmail" banner when the server can no longer read the rep's mailbox.

import { gmailBanner } from "../../shared/gmail-health.js";
import { onPush } from "../worker.js";

/** Show what the worker last heard of the rep's Gmail health as Gmail opens, then follow what its
 * notification polls bring (each carries the health): the newest word wins. */
export function register({ adapter, ask }) {
  let heardAt = -1;
  let said;
  const show = (health) => {
    if (!health || !(health.at > heardAt)) return;
    heardAt = health.at;
    const banner = gmailBanner(health.gmail);
    const words = banner ? `${banner.text} ${banner.url}` : "";
    // Only a change redraws: every poll repeats the health, and a banner the rep closed stays
    // closed until there is something new to say.
    if (words === said) return;
    said = words;
    adapter.banner(banner);
  };
  onPush("lc.gmailHealth", show);
  ask("lc.gmailHealth")
    .then(show)
    .catch(() => {}); // the worker silent: nothing is known, so nothing is said
}
