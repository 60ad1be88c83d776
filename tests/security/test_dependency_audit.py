"""The dependency audit's verdicts on reports shaped as pip-audit and npm audit write them: a
known vulnerability fails, an unreachable database is said and passes, a package that could not
be audited while others were fails (strict)."""

from __future__ import annotations

from tests.security.dependency_audit import FAILED, OK, UNREACHABLE, npm_verdict, pip_verdict

JINJA = {
    "name": "jinja2",
    "version": "3.1.2",
    "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"], "aliases": []}],
}
FLASK = {"name": "flask", "version": "3.1.3", "vulns": []}
SKIPPED = {
    "name": "alembic",
    "skip_reason": "Dependency not found on PyPI and could not be audited",
}


def test_a_known_python_vulnerability_fails():
    verdict, lines = pip_verdict({"dependencies": [FLASK, JINJA], "fixes": []}, "")
    assert verdict == FAILED and "GHSA-h5c8-rqwp-cp95" in lines[0]


def test_python_packages_without_vulnerabilities_pass():
    assert pip_verdict({"dependencies": [FLASK], "fixes": []}, "")[0] == OK


def test_an_unreachable_python_database_is_said_and_passes():
    assert pip_verdict({"dependencies": [SKIPPED, SKIPPED]}, "")[0] == UNREACHABLE
    refused = "requests.exceptions.ConnectionError: Max retries exceeded with url: /pypi/"
    assert pip_verdict(None, refused)[0] == UNREACHABLE


def test_a_python_package_that_could_not_be_audited_fails_when_others_were():
    verdict, lines = pip_verdict({"dependencies": [FLASK, SKIPPED]}, "")
    assert verdict == FAILED and "alembic" in lines[0]


def test_pip_audit_failing_otherwise_fails():
    assert pip_verdict(None, "error: invalid requirement")[0] == FAILED


def test_a_known_npm_vulnerability_fails():
    counts = {"info": 0, "low": 0, "moderate": 0, "high": 1, "critical": 0, "total": 1}
    report = {
        "auditReportVersion": 2,
        "vulnerabilities": {"esbuild": {"name": "esbuild", "severity": "high"}},
        "metadata": {"vulnerabilities": counts},
    }
    verdict, lines = npm_verdict(report, "")
    assert verdict == FAILED and "esbuild" in lines[0]


def test_npm_without_vulnerabilities_passes():
    counts = {"info": 0, "low": 0, "moderate": 0, "high": 0, "critical": 0, "total": 0}
    report = {
        "auditReportVersion": 2,
        "vulnerabilities": {},
        "metadata": {"vulnerabilities": counts},
    }
    assert npm_verdict(report, "")[0] == OK


def test_an_unreachable_npm_advisory_service_is_said_and_passes():
    mirror = {"message": "405 Method Not Allowed - POST https://r/-/npm/v1/security/advisories/bulk",
              "statusCode": 405}  # fmt: skip
    offline = {"error": {"code": "ENOTFOUND", "summary": "request to https://r failed"}}
    assert npm_verdict(mirror, "npm error audit endpoint returned an error")[0] == UNREACHABLE
    assert npm_verdict(offline, "")[0] == UNREACHABLE


def test_npm_audit_failing_otherwise_fails():
    assert npm_verdict({"error": {"code": "ENOLOCK", "summary": "no lockfile"}}, "")[0] == FAILED
    assert npm_verdict(None, "Segmentation fault")[0] == FAILED
