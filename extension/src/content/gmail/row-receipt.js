// A thread row's receipt as InboxSDK descriptors. A label's only tooltip is its own title, so the
// full text (opens, last open, clicks, replies, bounce) rides on an attachment-column icon's tooltip.

// Colours per receipt state: blue for a read mail, green for an answered one, red for a bounce.
const COLORS = {
  sent: { foregroundColor: "#5f6368", backgroundColor: "#f1f3f4" },
  opened: { foregroundColor: "#0b57d0", backgroundColor: "#e8f0fe" },
  clicked: { foregroundColor: "#0b57d0", backgroundColor: "#d3e3fd" },
  replied: { foregroundColor: "#146c2e", backgroundColor: "#e6f4ea" },
  bounced: { foregroundColor: "#b3261e", backgroundColor: "#fce8e6" },
};
const MACHINE = { foregroundColor: "#5f6368", backgroundColor: "#f1f3f4" };

/** {label, machine, icon, state} descriptors of a receipt (each null when there is nothing to
 * show). */
export function rowDescriptors(receipt, iconUrl) {
  if (!receipt) return { label: null, machine: null, icon: null, state: null };
  // Gmail's tooltips are one line.
  const tooltip = receipt.tooltip.split("\n").join(" · ");
  return {
    label: { title: receipt.label, ...(COLORS[receipt.state] || COLORS.opened) },
    machine: receipt.machine ? { title: `⚙ ${receipt.machine}`, ...MACHINE } : null,
    icon: { iconUrl, iconClass: `lc-receipt-icon lc-${receipt.state}`, tooltip },
    state: receipt.state,
  };
}
