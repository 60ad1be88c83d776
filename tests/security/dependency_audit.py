"""Known vulnerabilities in the pinned dependencies: pip-audit on the project's environment and
npm audit on the extension's lockfile (`make lint` runs this).

Offline-safe: when a vulnerability database cannot be reached, it says so and does not fail;
when it answers, any known vulnerability fails, and so does a package it could not audit
(strict), since a pin nobody can check is not a pin known to be safe.

    python -m tests.security.dependency_audit
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OK, UNREACHABLE, FAILED = "ok", "unreachable", "failed"
# npm's codes for a registry it could not reach at all.
NETWORK_CODES = {"ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENETUNREACH"}


def pip_verdict(report: dict | None, stderr: str) -> tuple[str, list[str]]:
    """Judge pip-audit's JSON report: (OK, UNREACHABLE or FAILED; what to say)."""
    if report is None:
        if any(w in stderr for w in ("ConnectionError", "Max retries", "Name or service")):
            return UNREACHABLE, ["pip-audit: the vulnerability service cannot be reached"]
        return FAILED, [f"pip-audit did not run: {stderr.strip()[-500:]}"]
    deps = report.get("dependencies", [])
    found = [
        f"{d['name']} {d.get('version')}: {v['id']} (fixed in {v.get('fix_versions')})"
        for d in deps
        for v in d.get("vulns", [])
    ]
    if found:
        return FAILED, found
    skipped = [d for d in deps if "skip_reason" in d]
    if deps and len(skipped) == len(deps):
        # Every lookup came back empty-handed: the service is not there, not every package.
        return UNREACHABLE, ["pip-audit: the vulnerability service answered for no package"]
    if skipped:
        return FAILED, [f"not audited: {d['name']}: {d['skip_reason']}" for d in skipped]
    return OK, [f"pip-audit: {len(deps)} packages, no known vulnerability"]


def npm_verdict(report: dict | None, stderr: str) -> tuple[str, list[str]]:
    """Judge `npm audit --json`: (OK, UNREACHABLE or FAILED; what to say)."""
    if report is None:
        return FAILED, [f"npm audit did not answer JSON: {stderr.strip()[-500:]}"]
    counts = report.get("metadata", {}).get("vulnerabilities")
    if counts is not None:
        if counts.get("total", 0):
            names = sorted(report.get("vulnerabilities", {}))
            return FAILED, [f"npm audit: {counts} in {', '.join(names)}"]
        return OK, ["npm audit: no known vulnerability"]
    error = report.get("error", report)
    code = str(error.get("code", ""))
    status = report.get("statusCode") or error.get("statusCode")
    # The registry answered, but not as an audit service (a mirror: 404, 405, 5xx), or not at all.
    if code in NETWORK_CODES or status or "audit endpoint" in stderr:
        return UNREACHABLE, [
            f"npm audit: the advisory service cannot be reached ({code or status})"
        ]
    return FAILED, [f"npm audit failed: {error}"]


def _run(command: list[str], cwd: Path) -> tuple[dict | None, str]:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    try:
        return json.loads(result.stdout), result.stderr
    except json.JSONDecodeError:
        return None, result.stderr + result.stdout


def main() -> int:
    """Run both audits; exit 1 on a known vulnerability or a package that could not be audited."""
    pip = [sys.executable, "-m", "pip_audit", "--format", "json", "--progress-spinner", "off"]
    verdicts = [pip_verdict(*_run(pip, ROOT))]
    if shutil.which("npm"):
        npm = ["npm", "audit", "--json", "--package-lock-only"]
        verdicts.append(npm_verdict(*_run(npm, ROOT / "extension")))
    else:
        verdicts.append((UNREACHABLE, ["npm audit: npm is not installed"]))
    for verdict, lines in verdicts:
        for line in lines:
            print(f"dependency audit ({verdict}): {line}")
    return 1 if any(verdict == FAILED for verdict, _ in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
