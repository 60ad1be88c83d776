"""Every way an address can be written into stored text, and a matcher for them.

A link may carry the address plain, percent-encoded once or twice (`%40`, `%2540`), form-encoded,
or base64-encoded (standard or URL-safe alphabet, padded or not), alone or inside a longer blob
(`?token=base64("email=ana@…&list=7")`). Base64 of a longer text holds the address's own
encoding only at one of three alignments, and only the characters whose six bits come from the
address alone are fixed; those characters are what `forms` yields, so the address is found
whatever surrounds it. Search (`find`) and erasure (`erase`) of the personal-data providers both
use these forms, so what a search shows is what an erasure removes.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

from sqlalchemy import func, or_

# Fragments shorter than this match unrelated base64 too often to act on them.
MIN_FRAGMENT = 8
REDACTED = "[erased]"


def _texts(address: str) -> set[str]:
    """The address as text may carry it: plain, percent-encoded once and twice, form-encoded."""
    once = {quote(address, safe=""), quote_plus(address), address.replace("@", "%40")}
    twice = {quote(t, safe="") for t in once}
    return {address, *once, *twice}


def _base64_fragments(text: str) -> set[str]:
    """The base64 characters fixed by `text` alone at each of the three byte alignments."""
    raw = text.encode()
    out = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode().rstrip("=")
        # Characters carry 6 bits: skip those that mix in the bytes before or after the text.
        start, end = -(-8 * offset // 6), (8 * (offset + len(raw))) // 6
        fragment = encoded[start:end]
        if len(fragment) >= MIN_FRAGMENT:
            urlsafe = fragment.replace("+", "-").replace("/", "_")
            out |= {fragment, urlsafe, quote(fragment, safe="")}
    return out


def forms(addresses: Iterable[str]) -> set[str]:
    """Every stored spelling of the addresses: capitalisations given and lower-cased, URL
    encodings, and their base64 fragments."""
    texts = set()
    for address in addresses:
        for spelling in {address, address.lower()}:
            texts |= _texts(spelling)
    out = set(texts)
    for text in texts:
        out |= _base64_fragments(text)
    return out


def _folded(found: Iterable[str]) -> list[str]:
    """Forms compared without case (percent-escapes and addresses ignore it); longest first."""
    return sorted({f.lower() for f in found}, key=len, reverse=True)


def mentions(text: str | None, found: Iterable[str]) -> bool:
    """Whether `text` holds any of the forms, ignoring case."""
    folded = (text or "").lower()
    return any(form in folded for form in _folded(found))


def redact(text: str | None, found: Iterable[str]) -> str | None:
    """`text` with every form replaced by a marker."""
    for form in _folded(found):
        text = text and re.sub(re.escape(form), REDACTED, text, flags=re.IGNORECASE)
    return text


def column_mentions(column, found: Iterable[str]):
    """A SQL condition: the column's text holds any of the forms, ignoring case, literally."""
    lowered = func.lower(column)
    return or_(*(lowered.contains(form, autoescape=True) for form in _folded(found)))
