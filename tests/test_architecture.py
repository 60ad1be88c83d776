"""The package map holds: imports point one way, no circles, no folder grows past ~15 modules.

docs/architecture.md draws the layers these tests enforce.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parent.parent / "server"

# Top-level packages from the top layer down; a module may import its own package or any package
# ranked strictly lower. Packages of one rank (the API, the settings pages, the jobs) never import
# each other. The factory and the web server entry (unranked) may import anything.
RANKS = {
    "cli": 0,
    "jobs": 1,
    "api": 1,
    "admin": 1,
    "workspace": 1,
    "auth": 2,
    # Reports read every domain's rows (messages, summaries, the team); only entry points read them.
    "insights": 2.5,
    "privacy": 3,
    "gmail": 4,
    # Reads messages, contacts and events; below the entry points that show it.
    "predictions": 4.5,
    "messages": 5,
    "contacts": 6,
    "tracking": 7,
    # Below every producer of events (tracking, contacts, messages, privacy), above accounts.
    "webhooks": 7.5,
    "accounts": 8,
    "common": 9,
    "models": 10,
    "extensions": 11,
}
MAX_MODULES_PER_FOLDER = 15


def module_name(path: Path) -> str:
    """The dotted name of a file under server/."""
    parts = path.relative_to(SERVER.parent).with_suffix("").parts
    return ".".join(parts).removesuffix(".__init__")


def imports_of(path: Path) -> set[str]:
    """Every server module `path` imports, at any depth, except under `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []
    package = (
        module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    )
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parents = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parents, base] if base else parents)
            found |= {base, *(f"{base}.{alias.name}" for alias in node.names)}
    return {name for name in found if name == "server" or name.startswith("server.")}


def graph() -> dict[str, set[str]]:
    """Module -> the server modules it imports."""
    files = {module_name(p): p for p in SERVER.rglob("*.py")}
    return {
        name: {
            other
            for other in imports_of(path)
            if other in files and other != name and not other.startswith(name + ".")
        }
        for name, path in files.items()
    }


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle, as a path that ends where it starts, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def rank(module: str) -> int | None:
    """The rank of a module's top-level package under server/ (None: unranked)."""
    parts = module.split(".")
    return RANKS.get(parts[1]) if len(parts) > 1 else None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle_among_server_modules():
    assert find_cycle(graph()) is None


def test_imports_point_down_the_layers():
    wrong = []
    for module, targets in graph().items():
        mine = rank(module)
        for target in targets:
            theirs = rank(target)
            same_package = target.split(".")[:2] == module.split(".")[:2]
            if mine is None or same_package or target == "server":
                continue
            if theirs is None or theirs <= mine:
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_every_package_has_a_rank():
    packages = {p.parent.name for p in SERVER.glob("*/__init__.py")}
    assert packages == set(RANKS) - {"extensions"}


@pytest.mark.parametrize("folder", sorted({p.parent for p in SERVER.rglob("*.py")}))
def test_no_folder_holds_more_than_about_fifteen_modules(folder: Path):
    assert len(list(folder.glob("*.py"))) <= MAX_MODULES_PER_FOLDER, folder


def test_tracking_stays_off_the_entry_points_and_google():
    """The hot path never reaches into the API, the admin pages or Google's libraries."""
    forbidden = (
        "server.api",
        "server.admin",
        "server.auth",
        "server.cli",
        "server.gmail",
        "google",
    )
    for path in (SERVER / "tracking").rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
        }
        assert not {n for n in names if n.startswith(forbidden)}, path
