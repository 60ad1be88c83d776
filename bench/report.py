"""The bench's verdict: a table of the runs, the ratios against the targets, and the JSON record."""

from __future__ import annotations

import json
from pathlib import Path

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
    return out


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
