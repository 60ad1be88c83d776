"""Address normalisation (the de-duplication key), company domains and free-mail providers."""

from __future__ import annotations

import pytest

from server.common.addresses import (
    AddressError,
    company_domain,
    company_name_guess,
    normalize_email,
)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Ana@Acme.COM", "ana@acme.com"),
        ("  <ana@acme.com>  ", "ana@acme.com"),
        ("ana@acme.com.", "ana@acme.com"),
        # Plus-addressing is stripped only where the provider defines it...
        ("Ana+news@gmail.com", "ana@gmail.com"),
        ("ana+x@outlook.com", "ana@outlook.com"),
        ("ana+x@icloud.com", "ana@icloud.com"),
        ("ana+x@proton.me", "ana@proton.me"),
        # ...never on a company's own domain, whose server may give `+` no special meaning.
        ("sales+eu@acme.com", "sales+eu@acme.com"),
        # Gmail ignores dots; googlemail.com is gmail.com.
        ("A.n.a+promo@GoogleMail.com", "ana@gmail.com"),
        ("a.na@gmail.com", "ana@gmail.com"),
        ("a.na@outlook.com", "a.na@outlook.com"),
        # Yahoo's "-" disposable addresses are separate mailboxes: kept.
        ("ana-shop@yahoo.com", "ana-shop@yahoo.com"),
    ],
)
def test_normalize(given, expected):
    assert normalize_email(given) == expected


@pytest.mark.parametrize(
    "bad", ["", "ana", "@acme.com", "ana@", "ana@acme", "a b@acme.com", "a@b@c"]
)
def test_not_addresses_are_refused(bad):
    with pytest.raises(AddressError):
        normalize_email(bad)


def test_company_domain_skips_free_mail_and_subdomains():
    assert company_domain("ana@acme.com") == "acme.com"
    assert company_domain("ana@eu.mail.acme.com") == "acme.com"
    assert company_domain("ana@shop.acme.co.uk") == "acme.co.uk"
    assert company_domain("ana@gmail.com") is None
    assert company_domain("ana@yahoo.co.uk") is None
    assert company_name_guess("acme.co.uk") == "Acme"
    assert company_name_guess("big-data-co.io") == "Big Data Co"
