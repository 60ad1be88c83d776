"""Link tokens: the shared vectors, itsdangerous compatibility, and forgeries that must fail."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from itsdangerous import Signer

from server.common import signing, targets

VECTORS = json.loads(
    (Path(__file__).parents[1] / "vectors" / "tracking-signatures.json").read_text("utf-8")
)
SECRETS = (VECTORS["server_secret"],)
CASES = VECTORS["cases"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["kid"])
def test_vectors_derive_the_same_keys_and_paths(case):
    key = signing.derive_key(VECTORS["server_secret"], case["kid"])
    assert signing.b64encode(key) == case["key"]
    assert signing.pixel_path(key, case["kid"], case["mid"]) == case["open"]["path"]
    for click in case["clicks"]:
        assert signing.b64encode(click["url"].encode()) == click["encoded_url"]
        assert signing.click_path(key, case["kid"], case["mid"], click["url"]) == click["path"]


@pytest.mark.parametrize("case", VECTORS["message_ids"], ids=lambda c: c["id"])
def test_message_ids_are_bound_to_their_key(case):
    key = signing.b64decode(case["key"])
    assert signing.is_bound(key, case["id"])
    assert case["id"].startswith(case["nonce"]) and len(case["id"]) == 22
    other = signing.derive_key(VECTORS["server_secret"], "another-kid")
    assert not signing.is_bound(other, case["id"])
    flipped = case["id"][:-1] + ("A" if case["id"][-1] != "A" else "B")
    assert not signing.is_bound(key, flipped) and not signing.is_bound(key, case["id"][:-1])
    fresh = signing.bound_message_id(key)
    assert signing.is_bound(key, fresh) and fresh != signing.bound_message_id(key)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["kid"])
def test_signatures_are_itsdangerous_signatures(case):
    key = signing.derive_key(VECTORS["server_secret"], case["kid"])
    for purpose, item in [(signing.OPEN, case["open"])] + [
        (signing.CLICK, c) for c in case["clicks"]
    ]:
        signer = Signer(key, salt=purpose, key_derivation="hmac", digest_method=hashlib.sha256)
        assert signer.get_signature(item["value"]).decode() == item["signature"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["kid"])
def test_vector_paths_verify(case):
    token = case["open"]["path"].removeprefix("/o/").removesuffix(".gif")
    assert signing.verify_pixel(SECRETS, token) == signing.Hit(case["kid"], case["mid"])
    for click in case["clicks"]:
        token, _, encoded = click["path"].removeprefix("/c/").partition("/")
        assert signing.verify_click(SECRETS, token, encoded) == signing.Hit(
            case["kid"], case["mid"], click["url"], targets.location(click["url"])
        )


@pytest.mark.parametrize("bad", VECTORS["invalid"], ids=lambda b: b["why"])
def test_invalid_vectors_never_verify(bad):
    path = bad["path"]
    if path.startswith("/o/"):
        assert signing.verify_pixel(SECRETS, path[3:].removesuffix(".gif")) is None
    else:
        token, _, encoded = path[3:].partition("/")
        assert signing.verify_click(SECRETS, token, encoded) is None


def test_old_secrets_still_verify_after_rotation():
    case = CASES[0]
    token = case["open"]["path"][3:-4]
    assert signing.verify_pixel(("a-new-secret", VECTORS["server_secret"]), token) is not None
    assert signing.verify_pixel(("a-new-secret",), token) is None


def test_only_http_targets_redirect():
    key = signing.derive_key("s", "kid")
    for url in ["javascript:alert(1)", "ftp://example.com/", "//example.com", "https://", "data:x"]:
        token, _, encoded = signing.click_path(key, "kid", "m" * 22, url)[3:].partition("/")
        assert signing.verify_click(("s",), token, encoded) is None, url
    header_split = "https://example.com/\r\nSet-Cookie: x=1"
    token, _, encoded = signing.click_path(key, "kid", "m" * 22, header_split)[3:].partition("/")
    assert signing.verify_click(("s",), token, encoded) is None


def sign_and_verify(url: str) -> signing.Hit | None:
    key = signing.derive_key("s", "kid")
    token, _, encoded = signing.click_path(key, "kid", "m" * 22, url)[3:].partition("/")
    return signing.verify_click(("s",), token, encoded)


def test_a_genuine_link_to_a_target_the_redirect_cannot_send_never_verifies():
    for url in ["http://example.com:99999/", "http://a..example/", "http://exa mple.com/"]:
        assert sign_and_verify(url) is None, url
    hit = sign_and_verify("http://bücher.example/ä?q=ü")
    assert hit.url == "http://bücher.example/ä?q=ü"
    assert hit.location == "http://xn--bcher-kva.example/%C3%A4?q=%C3%BC"


def test_the_longest_target_fits_the_longest_signed_encoding():
    longest = "https://example.com/" + "a" * (targets.MAX_BYTES - len("https://example.com/"))
    assert len(signing.b64encode(longest.encode())) == signing.MAX_URL_LENGTH
    assert sign_and_verify(longest).url == longest
    assert sign_and_verify(longest + "a") is None


@given(st.integers(min_value=0, max_value=200), st.characters(codec="ascii"))
def test_changing_any_character_of_a_click_breaks_it(position, replacement):
    path = CASES[0]["clicks"][1]["path"][3:]
    position %= len(path)
    if path[position] == replacement:
        return
    forged = path[:position] + replacement + path[position + 1 :]
    token, _, encoded = forged.partition("/")
    assert signing.verify_click(SECRETS, token, encoded) is None


@given(st.text(max_size=120))
def test_arbitrary_tokens_never_verify_or_raise(text):
    assert signing.verify_pixel(SECRETS, text) is None
    assert signing.verify_click(SECRETS, text, text) is None
