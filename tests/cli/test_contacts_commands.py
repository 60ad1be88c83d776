"""`flask contacts import FILE --account NAME` and `flask contacts export --account NAME`."""

from __future__ import annotations

from sqlalchemy import select

from server.contacts import service as contacts
from server.extensions import db
from server.models import AuditEntry


def test_import_reports_rejected_rows_then_export(app, rep, tmp_path):
    user, _ = rep
    runner = app.test_cli_runner()
    source = tmp_path / "leads.csv"
    source.write_bytes("email,name\nana@acme.com,Ana Müller\nbroken,Nope\n".encode("utf-8-sig"))
    result = runner.invoke(args=["contacts", "import", str(source), "--account", "Acme"])
    assert result.exit_code == 1
    assert "line 3: email: 'broken' is not an email address" in result.output
    assert "1 created, 0 updated, 1 rejected" in result.output
    assert contacts.find_contact(db.session, user.account_id, "ana@acme.com").name == "Ana Müller"

    out = tmp_path / "out.csv"
    result = runner.invoke(args=["contacts", "export", "--account", "Acme", "-o", str(out)])
    assert result.exit_code == 0
    assert (
        out.read_text(encoding="utf-8-sig").splitlines()[1]
        == "ana@acme.com,Ana Müller,,,Acme,,false"
    )
    # A bulk copy of personal data leaves a trace, committed by the command itself.
    db.session.rollback()
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert actions.count("contacts.export") == 1 and "contacts.import" in actions

    unknown = runner.invoke(args=["contacts", "export", "--account", "Nobody"])
    assert unknown.exit_code != 0 and "no account named 'Nobody'" in unknown.output
