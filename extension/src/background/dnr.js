// Self-open suppression: the rep's own Gmail never loads our pixel, direct or via Gmail's proxy.

const RULE_IDS = [1, 2];

/** `text` as a literal in a regular expression. */
function escapeRegex(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Rules that block our pixel in requests initiated by mail.google.com, for each tracking host. */
export function pixelRules(hosts) {
  const unique = [...new Set(hosts.filter(Boolean).map((h) => h.toLowerCase()))];
  const alternatives = unique.map(escapeRegex).join("|");
  const token = "/o/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.gif";
  const condition = { initiatorDomains: ["mail.google.com"], resourceTypes: ["image"] };
  return [
    {
      id: RULE_IDS[0], priority: 1, action: { type: "block" },
      condition: { ...condition, regexFilter: `^https?://(${alternatives})${token}` },
    },
    {
      // Gmail's image proxy keeps the original address after "#".
      id: RULE_IDS[1], priority: 1, action: { type: "block" },
      condition: {
        ...condition,
        regexFilter: `^https://[a-z0-9-]+\\.googleusercontent\\.com/[^#]*#https?://(${alternatives})${token}`,
      },
    },
  ];
}

/** Install (or replace) the block rules for these tracking hosts. */
export async function updateRules(hosts) {
  await chrome.declarativeNetRequest.updateDynamicRules({
    removeRuleIds: RULE_IDS, addRules: pixelRules(hosts),
  });
}

/** Remove the block rules (sign-out). */
export async function clearRules() {
  await chrome.declarativeNetRequest.updateDynamicRules({ removeRuleIds: RULE_IDS });
}
