// The activity page: polls the updates URL after the page's cursor and puts each new row on
// top of the table, as the server rendered it. No inline script, no eval.
(() => {
  const live = document.getElementById("activity-live");
  const rows = document.getElementById("activity-rows");
  if (!live || !rows) return;
  let cursor = live.dataset.cursor;
  const every = 5000;

  function add(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const row = template.content.firstElementChild;
    if (!row || rows.querySelector(`tr[data-id="${CSS.escape(row.dataset.id)}"]`)) return;
    row.classList.add("new");
    rows.prepend(row);
    if (window.Leadcamp) window.Leadcamp.formatTimes(row);
  }

  async function poll() {
    try {
      const url = `${live.dataset.updatesUrl}?after=${encodeURIComponent(cursor)}`;
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.ok) {
        const found = await response.json();
        found.rows.forEach(add); // oldest first, so the newest ends on top
        cursor = found.cursor;
        if (found.rows.length) {
          document.getElementById("activity-empty")?.remove();
          live.textContent = `${found.rows.length} new · watching for more…`;
        }
      }
    } catch {
      // The server or the network blinked: ask again after the pause.
    }
    window.setTimeout(poll, every);
  }

  window.setTimeout(poll, 1000);
})();
