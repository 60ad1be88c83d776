// Who "the rep" is on this Gmail tab: the signed-in Gmail user and the Leadcamp account's email
// may differ (an alias, another mailbox), and either is the rep.

/** The rep's own addresses, lower-cased: Gmail's signed-in user and the account's email. */
export function selfEmails(adapter, settings) {
  return new Set([adapter.userEmail(), settings.email].filter(Boolean).map((e) => e.toLowerCase()));
}
