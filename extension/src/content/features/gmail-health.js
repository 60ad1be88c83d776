// A "Reconnect Gmail" banner when the server can no longer read the rep's mailbox.

import { gmailBanner } from "../../shared/gmail-health.js";

/** Ask the worker for the rep's Gmail health (fresh from the server) once Gmail opens. */
export function register({ adapter, ask }) {
  ask("lc.gmailHealth")
    .then((gmail) => adapter.banner(gmailBanner(gmail)))
    .catch(() => {}); // the worker or server silent: nothing is known, so nothing is said
}
