"""DESIGN.md's boundary: only server/gmail/ imports Google's client libraries."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOOGLE = ("google", "googleapiclient", "google_auth_oauthlib", "httplib2", "oauthlib")


def google_imports(path: Path) -> set[str]:
    """Top-level package names of Google libraries a module imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found |= {n.split(".")[0] for n in names if n.split(".")[0] in GOOGLE}
    return found


def test_only_the_gmail_package_imports_google_libraries():
    gmail = ROOT / "server" / "gmail"
    offenders = {
        str(path.relative_to(ROOT)): google_imports(path)
        for path in (ROOT / "server").rglob("*.py")
        if google_imports(path) and path.parent != gmail
    }
    assert offenders == {}
    assert google_imports(ROOT / "server" / "gmail" / "client.py") == {
        "googleapiclient",
        "httplib2",
    }
