// A thread row's receipt as InboxSDK descriptors. A label's only tooltip is its own title, so the
// full text (opens, last open, clicks, replies) rides on an attachment-column icon's tooltip.

const LABEL = { foregroundColor: "#0b57d0", backgroundColor: "#e8f0fe" };
const MACHINE = { foregroundColor: "#5f6368", backgroundColor: "#f1f3f4" };

/** {label, machine, icon} descriptors of a receipt (each null when there is nothing to show). */
export function rowDescriptors(receipt, iconUrl) {
  if (!receipt) return { label: null, machine: null, icon: null };
  // Gmail's tooltips are one line.
  const tooltip = receipt.tooltip.split("\n").join(" · ");
  return {
    label: { title: receipt.label, ...LABEL },
    machine: receipt.machine ? { title: `⚙ ${receipt.machine}`, ...MACHINE } : null,
    icon: { iconUrl, iconClass: "lc-receipt-icon", tooltip },
  };
}
