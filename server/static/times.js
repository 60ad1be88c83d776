// Times on every page: the server writes each moment as <time datetime="…Z">…UTC</time>; this
// rewrites the text to a relative time ("5 minutes ago") and the moment in the viewer's own
// time zone, keeping the UTC text as the element's title. Runs under script-src 'self'.
(() => {
  const units = [
    ["year", 365 * 86400],
    ["month", 30 * 86400],
    ["week", 7 * 86400],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  // Named fields: dateStyle and timeStyle cannot be combined with timeZoneName.
  const local = new Intl.DateTimeFormat(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    timeZoneName: "short",
  });

  // Days apart on the viewer's calendar: 30 hours ago at 8 am is "2 days ago", not "yesterday".
  function calendarDays(date, now) {
    const day = new Date(date.getTime());
    const today = new Date(now);
    day.setHours(0, 0, 0, 0);
    today.setHours(0, 0, 0, 0);
    return Math.round((day.getTime() - today.getTime()) / 86_400_000);
  }

  function ago(date, now) {
    const seconds = Math.round((date.getTime() - now) / 1000);
    if (Math.abs(seconds) >= 86400 && Math.abs(seconds) < 7 * 86400) {
      return relative.format(calendarDays(date, now), "day");
    }
    for (const [unit, size] of units) {
      if (Math.abs(seconds) >= size) return relative.format(Math.trunc(seconds / size), unit);
    }
    return relative.format(0, "minute");
  }

  function formatTimes(root) {
    const now = Date.now();
    for (const element of (root || document).querySelectorAll("time[datetime]")) {
      const date = new Date(element.getAttribute("datetime"));
      if (Number.isNaN(date.getTime())) continue;
      if (!element.dataset.utc) element.dataset.utc = element.textContent;
      element.textContent = `${ago(date, now)} · ${local.format(date)}`;
      element.title = element.dataset.utc;
    }
  }

  window.Leadcamp = Object.assign(window.Leadcamp || {}, { formatTimes });
  formatTimes(document);
  window.setInterval(() => formatTimes(document), 60_000);
})();
