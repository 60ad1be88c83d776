"""Reading Gmail message resources: addresses, threading headers, bounces, automatic answers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.gmail.mail import Mail, is_automatic, is_bounce, subject_key


def mail(**headers) -> Mail:
    """A message resource in Gmail's format=metadata shape."""
    return Mail.parse(
        {
            "id": "18c2a5f0e1d2b3a4",
            "threadId": "18c2a5f0e1d20000",
            "labelIds": ["INBOX", "UNREAD"],
            "internalDate": "1764000000123",
            "payload": {
                "mimeType": "multipart/alternative",
                "headers": [{"name": k.replace("_", "-"), "value": v} for k, v in headers.items()],
            },
        }
    )


def test_parse_reads_ids_labels_time_and_headers_case_insensitively():
    m = mail(From='"Doe, Jane" <Jane@Example.com>', To="a@x.test, B <b@x.test>", Message_ID="<1@x>")
    assert (m.id, m.thread_id, m.labels) == (
        "18c2a5f0e1d2b3a4",
        "18c2a5f0e1d20000",
        {"INBOX", "UNREAD"},
    )
    assert m.at == datetime(2025, 11, 24, 16, 0, 0, 123000, tzinfo=UTC)
    assert m.sender == "jane@example.com" and m.rfc_id == "<1@x>"
    assert m.addresses("to") == [("", "a@x.test"), ("B", "b@x.test")]


def test_referenced_ids_come_from_in_reply_to_and_references():
    m = mail(In_Reply_To="<b@x>", References="<a@x>\r\n <b@x>")
    assert m.referenced == {"<a@x>", "<b@x>"}


@pytest.mark.parametrize(
    ("headers", "bounce"),
    [
        ({"From": "Mail Delivery Subsystem <mailer-daemon@googlemail.com>"}, True),
        ({"From": "postmaster@outlook.com"}, True),
        ({"From": "x@y.test", "X-Failed-Recipients": "gone@y.test"}, True),
        (
            {"From": "x@y.test", "Content-Type": "multipart/report; report-type=delivery-status"},
            True,
        ),
        (
            {
                "From": "x@y.test",
                "Content-Type": "multipart/report; report-type=disposition-notification",
            },
            False,
        ),
        ({"From": "jane@example.com"}, False),
    ],
)
def test_delivery_failure_notices_are_bounces(headers, bounce):
    assert is_bounce(mail(**{k.replace("-", "_"): v for k, v in headers.items()})) is bounce


def test_automatic_answers_are_recognised():
    assert is_automatic(mail(Auto_Submitted="auto-replied"))
    assert not is_automatic(mail(Auto_Submitted="no"))
    assert not is_automatic(mail(From="jane@example.com"))


def test_subject_keys_ignore_reply_and_forward_prefixes():
    assert subject_key("Re: RE:  Fwd: Quick   question") == subject_key("quick question")
    assert subject_key("AW: Angebot") == "angebot"
    assert subject_key("Regarding pricing") == "regarding pricing"
