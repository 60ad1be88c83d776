"""`demo seed`, `insights backtest` and `demo clear` from the command line."""

from __future__ import annotations

from sqlalchemy import func, select

from server.extensions import db
from server.models import Contact, Message
from server.predictions import service
from tests.support.admin import add_message


def test_seed_backtest_and_clear(app, rep):
    runner = app.test_cli_runner()
    user, _ = rep
    add_message(user, "ana@customer.test")

    refused = runner.invoke(args=["demo", "seed", "Acme", "--contacts", "300", "--months", "3"])
    assert refused.exit_code == 1 and "real messages or contacts; --force" in refused.output

    seeded = runner.invoke(args=["demo", "seed", "Demo Co", "--contacts", "300", "--months", "3"])
    assert seeded.exit_code == 0, seeded.output
    assert "300 contacts" in seeded.output

    scored = runner.invoke(args=["insights", "backtest", "Demo Co", "--weeks", "3"])
    assert scored.exit_code == 0, scored.output
    assert "reply within 7 days: n=" in scored.output and "base rate log loss" in scored.output
    assert "best hour" in scored.output
    demo_account = db.session.scalar(
        select(Contact.account_id).where(Contact.email.like("%.example"))
    )
    assert service.latest(db.session, demo_account) is not None

    cleared = runner.invoke(args=["demo", "clear", "Demo Co"])
    assert cleared.exit_code == 0 and "300 contacts" in cleared.output
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1  # the real one
    assert service.latest(db.session, demo_account) is None

    missing = runner.invoke(args=["insights", "backtest", "Nobody"])
    assert missing.exit_code == 1 and "no account named" in missing.output
