// Who "the rep" is on this Gmail tab: the signed-in Gmail user and the Leadcamp account's email
// may differ (an alias, another mailbox), and either is the rep.

/** The rep's own addresses, lower-cased: Gmail's signed-in user and the account's email. */
export function selfEmails(adapter, settings) {
  return new Set([adapter.userEmail(), settings.email].filter(Boolean).map((e) => e.toLowerCase()));
}

/** Why this Gmail tab gets nothing from Leadcamp (another Gmail account than the rep's, as a
 * personal Gmail in the same browser), or "" when it is the rep's. */
export function otherAccount(adapter, settings) {
  const account = settings?.gmailAccount;
  const user = adapter.userEmail() || "";
  if (!account || user.toLowerCase() === account.toLowerCase()) return "";
  return `Leadcamp is off in ${user}: it tracks only ${account}, the Gmail account connected to your Leadcamp server.`;
}
