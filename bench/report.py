"""The bench's verdict: a table of the runs, the ratios against the targets, and the JSON record."""

from __future__ import annotations

import json
from pathlib import Path

from bench import reports as report_bench
from bench.load import CONNECTIONS

P99_TARGET_MS = 10.0
# (label, numerator, denominator, minimum or None when the ratio is only informative)
RATIOS = (
    ("pixel / nginx", "pixel", "nginx", 0.4),
    ("pixel / bare Flask", "pixel", "bare", 1.0),
    ("click / nginx", "click", "nginx", 0.35),
    ("click / bare Flask", "click", "bare", None),
)
DATABASES = (("sqlite", "SQLite"), ("postgresql", "PostgreSQL"))


def mark(ok: bool) -> str:
    """PASS or MISS."""
    return "PASS" if ok else "MISS"


def rows(results: dict) -> list[tuple[str, dict]]:
    """Every measured run in print order, labelled."""
    out = [("nginx static GIF", results["nginx"]), ("bare Flask GIF", results["bare"])]
    for key, name in DATABASES:
        for kind in ("pixel", "click"):
            run = (results.get(key) or {}).get(kind)
            if run:
                out.append((f"{kind} ({name})", run))
    for key, label in (("quiet", "pixel, quiet"), ("busy", "pixel, slow work")):
        if results.get("mixed"):
            out.append((label, results["mixed"][key]))
    return out


def checks(results: dict) -> list[dict]:
    """Every target, per database: what was measured, the bound and whether it holds."""
    out = []
    for key, name in DATABASES:
        ours = results.get(key)
        if ours:
            out += _ratio_checks(results, ours, name)
            for kind in ("pixel", "click"):
                out += _run_checks(ours[kind], f"{kind} %s ({name})")
    if results.get("mixed"):
        out += mixed_checks(results["mixed"])
    if results.get("reports"):
        out += report_bench.checks(results["reports"])
    return out


def mixed_checks(mixed: dict) -> list[dict]:
    """The pixel with sends and an import in flight, against the same server quiet."""
    quiet, busy, work = mixed["quiet"], mixed["busy"], mixed["slow_work"]
    held_ms = work["send_delay_s"] * 1000
    sent = work["sends_finished"].get("succeeded", 0)
    bad = sum(n for status, n in work["sends_finished"].items() if status != "succeeded")
    accepted = work["send_accept_ms"]["p50"], work["import_accept_ms"]["p50"]
    return [
        *_run_checks(busy, "pixel with slow work %s"),
        _check(
            "pixel with slow work: longest",
            f"{busy['max_ms']:.1f} ms",
            f"< {held_ms:.0f} ms",
            busy["max_ms"] < held_ms,
        ),
        _check("req/s with slow work / quiet", f"{busy['rps'] / quiet['rps']:.2f}", "", None),
        _check("p99 with slow work / quiet", f"{busy['p99_ms'] / quiet['p99_ms']:.2f}", "", None),
        _check("slow work refused", str(work["refused"]), "= 0", work["refused"] == 0),
        _check("sends done (failed/unknown)", f"{sent} ({bad})", "> 0 (0)", sent > 0 and not bad),
        _check(
            "imports accepted (done)",
            f"{work['imports_accepted']} ({sum(work['imports_finished'].values())})",
            "> 0",
            work["imports_accepted"] > 0,
        ),
        _check("send / import answered p50", " / ".join(f"{v} ms" for v in accepted), "", None),
    ]


def _ratio_checks(results: dict, ours: dict, name: str) -> list[dict]:
    runs = {"pixel": ours["pixel"], "click": ours["click"], "nginx": results["nginx"]}
    runs["bare"] = results["bare"]
    out = []
    for label, num, den, minimum in RATIOS:
        value = runs[num]["rps"] / runs[den]["rps"]
        ok = None if minimum is None else value >= minimum
        bound = "" if minimum is None else f">= {minimum:.2f}"
        out.append(_check(f"{label} ({name})", f"{value:.2f}", bound, ok))
    return out


def _run_checks(run: dict, label: str) -> list[dict]:
    errors = run["bad_status"] + run["socket_errors"]
    extra = run["in_flight_extra"]
    return [
        _check(
            label % "p99",
            f"{run['p99_ms']:.2f} ms",
            f"<= {P99_TARGET_MS:.0f} ms",
            run["p99_ms"] <= P99_TARGET_MS,
        ),
        _check(label % "lost", str(run["lost"]), "= 0", run["lost"] == 0),
        # More rows than responses is fine up to one in flight per connection; beyond that a
        # hit was stored twice.
        _check(label % "persisted - served", str(extra), f"<= {CONNECTIONS}", extra <= CONNECTIONS),
        _check(label % "errors", str(errors), "= 0", errors == 0),
    ]


def spool_notes(results: dict) -> list[str]:
    """A note for every run whose sink fell back to its spool (the database refused writes)."""
    return [
        f"{kind} on {name}: {run['spooled_bytes']} bytes left in the spool (not in the database)"
        for key, name in DATABASES
        for kind, run in (results.get(key) or {}).items()
        if run["spooled_bytes"]
    ]


def _check(name: str, value: str, bound: str, ok: bool | None) -> dict:
    return {"check": name, "value": value, "target": bound, "ok": ok}


def render(results: dict, meta: dict) -> str:
    """The human-readable report."""
    lines = [
        f"Leadcamp bench: wrk {meta['threads']} threads, {meta['connections']} connections, "
        f"{meta['duration_s']:g}s per run after a {meta['warmup_s']:g}s warm-up, "
        f"{meta['cpus']} CPUs shared by wrk and the server",
        f"web server: {meta['web_server']}",
        "",
        f"{'target':<22}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'served':>10}{'persisted':>11}{'lost':>7}{'extra':>7}",
    ]
    for label, run in rows(results):
        stored = ("persisted", "lost", "in_flight_extra")
        persisted, lost, extra = (str(run[k]) if k in run else "-" for k in stored)
        lines.append(
            f"{label:<22}{run['rps']:>10.0f}{run['p50_ms']:>9.2f}{run['p99_ms']:>9.2f}"
            f"{run['requests']:>10}{persisted:>11}{lost:>7}{extra:>7}"
        )
    if results.get("reports"):
        lines += ["", *report_bench.render_runs(results["reports"])]
    lines += ["", f"{'check':<40}{'value':>12}  {'target':<10}result"]
    for check in results["checks"]:
        result = "-" if check["ok"] is None else mark(check["ok"])
        lines.append(f"{check['check']:<40}{check['value']:>12}  {check['target']:<10}{result}")
    lines += ["", *(f"note: {note}" for note in meta["notes"])]
    return "\n".join(lines).rstrip() + "\n"


def write_json(path: Path, results: dict, meta: dict) -> None:
    """Save the run for later comparison."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, **results}, indent=2) + "\n")
