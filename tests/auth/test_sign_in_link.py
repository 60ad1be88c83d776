""" "Email me a sign-in link": the same answer and the same work for any address, the link mailed
(through a real SMTP server) only to someone who may sign in, and a throttle per client."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.policy import default

import pytest

from server.accounts import users as accounts
from server.extensions import db
from tests.support.admin import csrf_from
from tests.support.jobs import pending, run_jobs


@pytest.fixture(autouse=True)
def _fresh_g(fresh_g_per_request):
    """Several clients take turns: each request gets its own `g` (tests/conftest.py)."""


@pytest.fixture
def inbox(app, smtp_server):
    """Mail configured through a local plaintext SMTP server; a small sign-in allowance."""
    app.config["LEADCAMP"] = app.config["LEADCAMP"].replace(
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_from="leadcamp@acme.test",
        smtp_allow_plaintext=True,
        rate_limit_sign_in="5 per minute",
    )
    return smtp_server


@pytest.fixture
def rep(app):
    """A rep who may sign in."""
    user = accounts.create_user(db.session, "rep@acme.test", "Acme")
    db.session.commit()
    return user


def ask(client, email: str):
    """Ask for a link on the sign-in page, as a browser would."""
    token = csrf_from(client.get("/auth/login").text)
    return client.post("/auth/login", data={"csrf_token": token, "email": email})


def mailed_link(message) -> str:
    """The sign-in path in a received mail."""
    body = message_from_bytes(message.content, policy=default).get_content()
    return re.search(r"http://track\.test(/auth/magic/\S+)", body).group(1)


def test_the_page_offers_the_link_only_when_mail_is_configured(app, client):
    assert "Email me a sign-in link" not in client.get("/auth/login").text
    app.config["LEADCAMP"] = app.config["LEADCAMP"].replace(smtp_host="127.0.0.1")
    assert "Email me a sign-in link" in client.get("/auth/login").text


def test_a_known_address_gets_a_link_that_signs_in(app, client, inbox, rep):
    answer = ask(client, " Rep@Acme.test ")
    assert answer.status_code == 302 and answer.headers["Location"] == "/auth/login"
    assert "a sign-in link is on its way" in client.get("/auth/login").text
    assert run_jobs(app) == 1
    [message] = inbox.messages
    assert message.rcpt_tos == ["rep@acme.test"]
    link = mailed_link(message)
    page = client.get(link)
    signed_in = client.post(link, data={"csrf_token": csrf_from(page.text)})
    assert signed_in.status_code == 302
    assert "rep@acme.test" in client.get("/").text


def test_unknown_and_known_addresses_get_the_same_answer_and_work(app, inbox, rep):
    answers = []
    for email in ("rep@acme.test", "nobody@acme.test"):
        client = app.test_client()
        before = pending(app)
        response = ask(client, email)
        assert pending(app) == before + 1  # one queued task either way, looked up only there
        answers.append((response.status_code, response.headers["Location"]))
        answers.append(_without_token(client.get("/auth/login").text))
    assert answers[0] == answers[2] and answers[1] == answers[3]
    run_jobs(app)
    assert [m.rcpt_tos for m in inbox.messages] == [["rep@acme.test"]]


def _without_token(html: str) -> str:
    return html.replace(csrf_from(html), "")


def test_a_deactivated_user_gets_no_mail(app, client, inbox, rep):
    rep.active = False
    db.session.commit()
    assert ask(client, "rep@acme.test").status_code == 302
    run_jobs(app)
    assert inbox.messages == []


def test_a_malformed_address_is_marked_and_kept(app, client, inbox):
    response = ask(client, "not an address")
    assert response.status_code == 400
    assert 'value="not an address"' in response.text
    assert 'aria-invalid="true"' in response.text and "autofocus" in response.text
    assert 'aria-describedby="email-error email-help"' in response.text
    assert 'id="email-error"' in response.text
    assert pending(app) == 0


def test_asking_is_throttled_per_client(app, inbox):
    asker, other = app.test_client(), app.test_client()
    asker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    statuses = [ask(asker, f"p{n}@acme.test").status_code for n in range(6)]
    assert statuses == [302] * 5 + [429]
    assert ask(other, "q@acme.test").status_code == 302  # not someone else's allowance
