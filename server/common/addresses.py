"""Email addresses: normalisation for de-duplication, company domains, free-mail providers.

The rules are documented in docs/contacts.md; tests/common/test_addresses.py pins them.
"""

from __future__ import annotations

import re

# Providers whose mail servers deliver `local+anything@` to `local@` (sub-addressing). Only these
# lose their `+tag`: a company's own server may treat `+` as an ordinary character.
PLUS_ADDRESSING = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "fastmail.com",
        "fastmail.fm",
        "proton.me",
        "protonmail.com",
        "pm.me",
    }
)
# Gmail ignores dots in the local part; googlemail.com is the same mailbox as gmail.com.
DOTLESS = frozenset({"gmail.com", "googlemail.com"})
CANONICAL_DOMAIN = {"googlemail.com": "gmail.com"}

# Personal mailbox providers: their domain says nothing about the person's employer.
FREE_MAIL = frozenset(
    {
        *PLUS_ADDRESSING,
        "aol.com",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "hey.com",
        "hushmail.com",
        "inbox.com",
        "laposte.net",
        "libero.it",
        "mail.com",
        "mail.ru",
        "naver.com",
        "orange.fr",
        "free.fr",
        "qq.com",
        "163.com",
        "126.com",
        "rediffmail.com",
        "rocketmail.com",
        "seznam.cz",
        "t-online.de",
        "tutanota.com",
        "tuta.io",
        "web.de",
        "wp.pl",
        "o2.pl",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "yahoo.de",
        "ymail.com",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "live.co.uk",
        "outlook.fr",
        "outlook.de",
    }
)

# Second-level labels under which registrable names sit one level deeper (acme.co.uk).
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ltd", "plc", "ne", "or"})
_VALID = re.compile(r"^[^@\s<>(),;:\"\[\]\\]{1,64}@([a-z0-9-]{1,63}\.)+[a-z0-9-]{2,63}$")


class AddressError(ValueError):
    """Not an email address we can keep."""


def normalize_email(addr: str) -> str:
    """The canonical form contacts are de-duplicated on (see docs/contacts.md)."""
    email = addr.strip().strip("<>").strip().lower()
    local, at, domain = email.rpartition("@")
    domain = domain.rstrip(".")
    if not at or not local or not domain:
        raise AddressError(f"not an email address: {addr!r}")
    if domain in PLUS_ADDRESSING:
        local = local.split("+", 1)[0] or local
    if domain in DOTLESS:
        local = local.replace(".", "") or local
    email = f"{local}@{CANONICAL_DOMAIN.get(domain, domain)}"
    if len(email) > 320 or not _VALID.match(email):
        raise AddressError(f"not an email address: {addr!r}")
    return email


def domain_of(email: str) -> str:
    """The domain part of an address."""
    return email.rpartition("@")[2]


def is_free_mail(domain: str) -> bool:
    """Whether the domain belongs to a personal mailbox provider."""
    return domain.lower() in FREE_MAIL


def company_domain(email: str) -> str | None:
    """The registrable domain of the sender's company, None for free-mail addresses."""
    domain = domain_of(email)
    if is_free_mail(domain):
        return None
    labels = domain.split(".")
    keep = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    registrable = ".".join(labels[-keep:])
    return None if is_free_mail(registrable) else registrable


def company_name_guess(domain: str) -> str:
    """A readable name from a domain until a person or enrichment says better: acme.co.uk → Acme."""
    label = domain.split(".")[0]
    return " ".join(part.capitalize() for part in label.split("-") if part)
