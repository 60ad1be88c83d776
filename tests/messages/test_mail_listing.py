"""Tracked mail as a list (filters, search, scope, pages) and one message's page."""

from __future__ import annotations

import pytest

from server.extensions import db
from server.messages import listing
from tests.support.tracked import DESKTOP, Hit, tracked


@pytest.fixture
def mail(make_user):
    """Acme's rep with five messages in every state, a colleague's, and another account's."""
    rep, _ = make_user("rep@acme.test", token=False)
    colleague, _ = make_user("nina@acme.test", token=False)
    admin, _ = make_user("boss@acme.test", admin=True, token=False)
    outsider, _ = make_user("eve@globex.test", "Globex", token=False)
    made = {
        "opened": tracked(rep, "ana@lead.test", "Pricing", [Hit("open", 600)], sent_ago=5000),
        "clicked": tracked(
            rep,
            "bo@lead.test",
            "Demo",
            [Hit("open", 700), Hit("click", 650, link="https://acme.test/demo")],
            sent_ago=4000,
        ),
        "replied": tracked(rep, "cy@lead.test", "Intro", [Hit("reply", 60)], sent_ago=3000),
        "bounced": tracked(
            rep,
            "dead@lead.test",
            "Bounce",
            [Hit("bounce", 50, verdict="machine", reasons="gmail-delivery-failure")],
            sent_ago=2000,
        ),
        "quiet": tracked(
            rep,
            "dee@lead.test",
            "Quiet",
            [Hit("open", 40, verdict="scanner", reasons="security-gateway")],
            sent_ago=1000,
        ),
    }
    made["colleague"] = tracked(colleague, "ana@lead.test", "Nina's", [Hit("open", 30)])
    made["outsider"] = tracked(outsider, "ana@lead.test", "Globex secret", [Hit("open", 20)])
    return rep, admin, outsider, made


def subjects(page: dict) -> list[str]:
    return [m["subject"] for m in page["messages"]]


def test_a_rep_lists_their_own_mail_newest_first_with_status(app, mail):
    rep, _, _, _ = mail
    page = listing.messages_page(db.session, rep)
    assert subjects(page) == ["Quiet", "Bounce", "Intro", "Demo", "Pricing"]
    assert page["total"] == 5
    status = {m["subject"]: m["status"] for m in page["messages"]}
    assert status == {
        "Quiet": "sent",  # the scanner's fetch is not an open
        "Bounce": "bounced",
        "Intro": "replied",
        "Demo": "clicked",
        "Pricing": "opened",
    }
    demo = page["messages"][3]
    assert (demo["opens"], demo["clicks"], demo["last_open_at"] is not None) == (1, 1, True)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("opened_not_replied", ["Demo", "Pricing"]),
        ("clicked", ["Demo"]),
        ("bounced", ["Bounce"]),
        ("no_activity", ["Quiet"]),
        ("", ["Quiet", "Bounce", "Intro", "Demo", "Pricing"]),
    ],
)
def test_filters(app, mail, name, expected):
    assert subjects(listing.messages_page(db.session, mail[0], filter_=name)) == expected


def test_search_by_subject_or_recipient_and_pages(app, mail):
    rep = mail[0]
    assert subjects(listing.messages_page(db.session, rep, q="BO@lead")) == ["Demo"]
    assert subjects(listing.messages_page(db.session, rep, q="pric")) == ["Pricing"]
    assert subjects(listing.messages_page(db.session, rep, q="%")) == []  # literal, no wildcard
    second = listing.messages_page(db.session, rep, limit=2, offset=2)
    assert subjects(second) == ["Intro", "Demo"] and second["total"] == 5


def test_an_admin_sees_the_account_never_another(app, mail):
    _, admin, outsider, made = mail
    page = listing.messages_page(db.session, admin)
    assert "Nina's" in subjects(page) and "Globex secret" not in subjects(page)
    assert {m["sender"] for m in page["messages"]} == {"rep@acme.test", "nina@acme.test"}
    assert subjects(listing.messages_page(db.session, outsider)) == ["Globex secret"]
    assert listing.message_page(db.session, outsider, made["opened"].id) is None
    assert listing.message_page(db.session, mail[0], made["colleague"].id) is None
    assert listing.message_page(db.session, admin, made["colleague"].id) is not None


def test_a_message_page_separates_machine_hits_and_counts_clicks_per_link(app, make_user):
    rep, _ = make_user(token=False)
    links = ["https://acme.test/a", "https://acme.test/b"]
    message = tracked(
        rep,
        "ana@lead.test",
        "Links",
        [
            Hit("click", 5, verdict="scanner", reasons="safe-links", link=links[0]),
            Hit("click", 4, verdict="scanner", reasons="safe-links", link=links[1]),
            Hit("open", 300, verdict="proxy", reasons="gmail-image-proxy"),
            Hit("click", 200, link=links[1], device=DESKTOP),
            Hit("open", 100, verdict="machine", reasons="apple-mail-privacy"),
            Hit("open", 90, verdict="self", reasons="gmail-image-proxy,self-view"),
        ],
        links=links,
    )
    page = listing.message_page(db.session, rep, message.id)
    assert [(h["kind"], h["explained"]["label"]) for h in page["hits"]] == [
        ("click", "a person"),
        ("open", "Gmail proxy — location hidden"),
    ]
    assert page["hits"][0]["device_text"] == "Outlook / Windows / desktop"
    assert page["hits"][1]["place"] == "hidden by the proxy"
    labels = [h["explained"]["label"] for h in page["machine_hits"]]
    assert labels == [
        "security scanner — not counted",
        "security scanner — not counted",
        "your own view — not counted",
        "Apple Mail prefetch — not counted",
    ]
    assert page["link_clicks"] == [
        {"url": links[0], "clicks": 0, "machine": 1},
        {"url": links[1], "clicks": 1, "machine": 1},
    ]
