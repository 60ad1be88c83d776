// The job page: follows a job run by polling its small status URL, shows how far it got, and
// reloads the page once the run has ended, so the server renders its result. No inline script
// and no eval: it runs under a Content-Security-Policy of script-src 'self'.
(() => {
  const job = document.getElementById("job");
  if (!job || job.dataset.finished === "true") return;
  const status = document.getElementById("job-status");
  const progress = document.getElementById("job-progress");
  const bar = document.getElementById("job-bar");
  let delay = 500;

  function show(run) {
    const { total, done, failed } = run.progress;
    status.textContent = run.label;
    progress.textContent = total ? `: ${done} of ${total}${failed ? `, ${failed} failed` : ""}` : "";
    if (bar) {
      bar.max = total || 1;
      bar.value = done;
      bar.textContent = `${done} of ${total || "?"}`;
    }
  }

  async function poll() {
    try {
      const response = await fetch(job.dataset.statusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.ok) {
        const run = await response.json();
        show(run);
        if (run.finished) {
          window.location.reload();
          return;
        }
      }
    } catch {
      // The server or the network blinked: ask again after the pause.
    }
    delay = Math.min(delay * 1.5, 5000);
    window.setTimeout(poll, delay);
  }

  window.setTimeout(poll, delay);
})();
