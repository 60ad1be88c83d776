"""Whole numbers, JSON nesting and URL ids, read from untrusted input in one way everywhere."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from server.common.inputs import (
    MAX_ID,
    MAX_JSON_DEPTH,
    IdConverter,
    contains_nul,
    json_too_deep,
    whole_number,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", 0), ("7", 7), (" 42 ", 42), ("100", 100), ("007", 7)],
)
def test_ascii_digits_within_bounds_are_numbers(raw, expected):
    assert whole_number(raw, 0, 100) == expected


@pytest.mark.parametrize(
    "raw",
    [None, "", " ", "²", "①", "٣", "\uff11", "1²", "-1", "+1", "1.0", "1e3", "0x1", "1_000", "101",
     "9" * 5000, "1 2", "\x00"],
)  # fmt: skip
def test_anything_else_is_none(raw):
    assert whole_number(raw, 0, 100) is None


def test_the_low_bound_holds():
    assert whole_number("0", 1, 10) is None and whole_number("1", 1, 10) == 1


def _nested(depth: int, inner: str = "1") -> bytes:
    return ("[" * depth + inner + "]" * depth).encode()


def test_nesting_up_to_the_limit_passes_and_one_more_does_not():
    assert not json_too_deep(_nested(MAX_JSON_DEPTH))
    assert json_too_deep(_nested(MAX_JSON_DEPTH + 1))
    assert json_too_deep(b'{"a":' * 1100 + b"1" + b"}" * 1100)


def test_brackets_inside_strings_do_not_count():
    text = json.dumps({"note": "[" * 5000, "quote": 'he said "{{{{', "esc": "\\[[[["})
    assert not json_too_deep(text.encode())
    assert not json_too_deep(json.dumps({"a": [{"b": ["[{" * 100]}]}).encode())


def test_siblings_do_not_add_up():
    assert not json_too_deep(json.dumps([[1]] * 10_000).encode())


def test_malformed_text_is_scanned_without_error():
    assert json_too_deep(b"[" * 10_000)
    assert not json_too_deep(b"]]]]}}}}" + _nested(3))
    assert not json_too_deep(b'"unterminated [[[[' + b"\xff\xfe")


@pytest.fixture
def ids():
    app = Flask(__name__)
    app.url_map.converters["int"] = IdConverter
    app.add_url_rule("/rows/<int:row_id>", "row", lambda row_id: str(row_id))
    return app.url_map.bind("track.test")


def test_ids_in_urls_are_ascii_and_bounded(ids):
    assert ids.match("/rows/12") == ("row", {"row_id": 12})
    assert ids.match(f"/rows/{MAX_ID}") == ("row", {"row_id": MAX_ID})
    for bad in (str(MAX_ID + 1), "9" * 30, "١٢", "²", "-1"):
        with pytest.raises(Exception) as raised:
            ids.match(f"/rows/{bad}")
        assert getattr(raised.value, "code", None) == 404, bad


@pytest.mark.parametrize(
    ("value", "found"),
    [("a\x00", True), ({"k": ["x", {"y": "\x00"}]}, True), ({"\x00": 1}, True),
     ([("name", ["ok", "b\x00"])], True), ("plain", False), ({"k": [1, None, "x"]}, False),
     (b"\x00", False)],
)  # fmt: skip
def test_nul_characters_are_found_in_strings_only(value, found):
    assert contains_nul(value) is found
