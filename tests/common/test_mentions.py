"""Every encoding of an address a link may carry is among its forms, found inside longer text
and redacted from it."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from server.common import mentions

ADDRESS = "Zoe.Quill+news@northwind-lead.test"


def _b64(text: str, urlsafe: bool = False, pad: bool = True) -> str:
    encode = base64.urlsafe_b64encode if urlsafe else base64.b64encode
    out = encode(text.encode()).decode()
    return out if pad else out.rstrip("=")


CARRIERS = {
    "plain": f"https://shop.test/?who={ADDRESS}",
    "percent": f"https://shop.test/?who={quote(ADDRESS, safe='')}",
    "double": f"https://shop.test/?who={quote(quote(ADDRESS, safe=''), safe='')}",
    "lower double": "https://shop.test/?who=zoe.quill%252Bnews%2540northwind-lead.test",
    "base64": f"https://shop.test/u/{_b64(ADDRESS)}",
    "base64 unpadded urlsafe": f"https://shop.test/u/{_b64(ADDRESS, True, False)}",
}
# The address inside a longer base64 blob, at each of the three byte alignments.
for prefix in ("", "e", "em"):
    blob = f"{prefix}email={ADDRESS}&list=7&utm=spring"
    CARRIERS[f"blob {prefix!r}"] = f"https://shop.test/?t={_b64(blob)}"
    CARRIERS[f"urlsafe blob {prefix!r}"] = f"https://shop.test/?t={_b64(blob, True, False)}"
    CARRIERS[f"form blob {prefix!r}"] = "https://shop.test/?t=" + _b64(
        f"{prefix}email={quote(ADDRESS, safe='')}&x=1"
    )
    CARRIERS[f"escaped blob {prefix!r}"] = "https://shop.test/?t=" + quote(_b64(blob), safe="")


@pytest.mark.parametrize("name", sorted(CARRIERS))
def test_every_encoding_is_found_and_redacted(name):
    found = mentions.forms({ADDRESS})
    carrier = CARRIERS[name]
    assert mentions.mentions(carrier, found), name
    redacted = mentions.redact(carrier, found)
    assert mentions.REDACTED in redacted and not mentions.mentions(redacted, found)


def test_other_addresses_and_unrelated_base64_are_not_matched():
    found = mentions.forms({ADDRESS})
    others = (
        "https://shop.test/?who=bo%40example.test",
        f"https://shop.test/?t={_b64('email=bo@example.test&list=7')}",
        "https://shop.test/?q=zoe.quill",
    )
    assert not [o for o in others if mentions.mentions(o, found)]
