"""Every CSV the server writes goes through one guard against spreadsheet formulas."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

import pytest

from server.common import csv_safe

SERVER = Path(__file__).resolve().parents[2] / "server"
DANGEROUS = ['=HYPERLINK("http://evil","x")', "@SUM(1+1)", "+1+1", "-1+1", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_cell_that_would_start_a_formula_is_quoted(text):
    assert csv_safe.cell(text) == "'" + text
    assert csv_safe.unguard(csv_safe.cell(text)) == text


@pytest.mark.parametrize("value", ["Ana", "", "a=b", "'quoted", "1 555", 7, None, "é@x"])
def test_other_cells_stay_as_they_are(value):
    expected = "" if value is None else str(value)
    assert csv_safe.cell(value) == expected
    assert csv_safe.unguard(expected) == expected


def test_the_writer_guards_every_cell():
    out = io.StringIO()
    csv_safe.writer(out).writerow(["ok", *DANGEROUS, -3])
    (row,) = csv.reader(io.StringIO(out.getvalue(), newline=""))
    assert row[0] == "ok" and row[-1] == "'-3"
    assert all(cell.startswith("'") for cell in row[1:])


def _raw_csv_writers() -> list[str]:
    """Modules other than the guard that build a csv.writer (or DictWriter) themselves."""
    found = []
    for path in SERVER.rglob("*.py"):
        if path.name == "csv_safe.py" and path.parent.name == "common":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in {"writer", "DictWriter"}
                and isinstance(node.value, ast.Name)
                and node.value.id == "csv"
            ):
                found.append(str(path.relative_to(SERVER)))
    return found


def test_no_module_writes_csv_around_the_guard():
    assert _raw_csv_writers() == []
