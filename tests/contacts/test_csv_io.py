"""CSV import (per-row errors, encodings, savepoints) and export."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import SQLAlchemyError

from server.contacts import csv_io as contacts_csv
from server.contacts import import_rows
from server.contacts import service as contacts
from server.extensions import db
from server.models import AuditEntry, Company, Contact, Enrichment

GOOD = (
    "email,name,title,phone,company,notes,do_not_enrich\n"
    "ana@acme.com,Ana Ruiz,CTO,+1 555 0100,Acme Corporation,met at a fair,\n"
    "Jo.Doe+crm@gmail.com,Jo Doe,,,,,yes\n"
)


@pytest.fixture
def account(rep):
    return rep[0].account


def imported(account, text: str | bytes) -> dict:
    data = text.encode() if isinstance(text, str) else text
    report = import_rows.import_csv(db.session, account, data).as_dict()
    db.session.commit()
    return report


def emails() -> list[str]:
    return list(db.session.scalars(select(Contact.email).order_by(Contact.email)))


def test_import_creates_then_updates(account):
    report = imported(account, GOOD)
    assert (report["created"], report["updated"], report["failed"]) == (2, 0, 0)
    assert report["encoding"] == "utf-8" and report["notices"] == []
    ana = contacts.find_contact(db.session, account.id, "ana@acme.com")
    assert (ana.name, ana.title, ana.phone, ana.notes) == (
        "Ana Ruiz",
        "CTO",
        "+1 555 0100",
        "met at a fair",
    )
    assert ana.company.name == "Acme Corporation" and ana.company.domain == "acme.com"
    assert ana.enrichment.status == "pending"
    jo = contacts.find_contact(db.session, account.id, "jodoe@gmail.com")
    assert jo.do_not_enrich and jo.enrichment is None and jo.email_display == "Jo.Doe+crm@gmail.com"

    again = imported(account, "Email;Title\nANA@acme.com;VP Engineering\njodoe@googlemail.com;\n")
    assert (again["created"], again["updated"]) == (0, 2)
    assert ana.title == "VP Engineering" and ana.name == "Ana Ruiz"  # empty cells keep values
    assert emails() == ["ana@acme.com", "jodoe@gmail.com"]


def test_a_bad_row_rejects_only_itself(account):
    text = (
        "email,name,phone,do_not_enrich,extra\n"
        "ana@acme.com,Ana,,,\n"  # line 2: fine
        "not-an-address,Bob,,,\n"  # line 3
        "bo@acme.com,Bo,call me maybe!,,\n"  # line 4: bad phone
        "ed@acme.com,Ed,,perhaps,\n"  # line 5: bad flag
        "fi@acme.com,Fi\n"  # line 6: too few fields
        "\n"
        "gu@acme.com,Gu,,,,surplus\n"  # line 8: too many
        f"hu@acme.com,{'x' * 201},,,\n"  # line 9: name too long
        'ik@acme.com,"Ik "quoted",,,\n'  # line 10: malformed quoting
        "jo@acme.com,Jo,,no,\n"  # line 11: fine
    )
    report = imported(account, text)
    assert (report["created"], report["failed"]) == (2, 7)
    errors = {r["row"]: r["errors"] for r in report["rows"] if r["status"] == "error"}
    assert sorted(errors) == [3, 4, 5, 6, 8, 9, 10]
    assert errors[3] == ["email: 'not-an-address' is not an email address"]
    assert errors[4][0].startswith("phone:")
    assert errors[5] == ["do_not_enrich: 'perhaps' is not true or false"]
    assert errors[6] == ["the row has 2 fields, the header has 5"]
    assert errors[8] == ["the row has 6 fields, the header has 5"]
    assert errors[9] == ["name: longer than 200 characters"]
    assert errors[10][0].startswith("malformed CSV")
    assert report["notices"] == ["Ignored columns: extra."]
    assert emails() == ["ana@acme.com", "jo@acme.com"]


def test_a_row_failing_half_way_leaves_nothing(account, monkeypatch):
    # The chunk saved at once fails on Bo's row; saved again row by row, only Bo's is refused.
    real = contacts.apply_changes

    def fail_for_bo(session, contact, changes, named=None):
        fields = real(session, contact, changes, named)
        if contact.email == "bo@globex.com":
            db.session.flush()
            raise SQLAlchemyError("disk full")
        return fields

    monkeypatch.setattr(contacts, "apply_changes", fail_for_bo)
    report = imported(account, "email,name\nana@acme.com,Ana\nbo@globex.com,Bo\nce@acme.com,Ce\n")
    assert [r["status"] for r in report["rows"]] == ["created", "error", "created"]
    assert report["rows"][1]["errors"] == ["could not be saved: SQLAlchemyError"]
    assert emails() == ["ana@acme.com", "ce@acme.com"]
    # Bo's company (created before the failure in the same row) went with the row.
    assert list(db.session.scalars(select(Company.domain))) == ["acme.com"]


def test_any_failure_in_a_row_rejects_only_that_row(account, monkeypatch):
    real = contacts.apply_changes

    def fail_for_bo(session, contact, changes, named=None):
        if contact.email.startswith("bo@"):
            raise ValueError("unexpected")
        return real(session, contact, changes, named)

    monkeypatch.setattr(contacts, "apply_changes", fail_for_bo)
    report = imported(account, "email\nana@acme.com\nbo@globex.com\nce@acme.com\n")
    assert [r["status"] for r in report["rows"]] == ["created", "error", "created"]
    assert report["rows"][1]["errors"] == ["could not be saved"]
    assert emails() == ["ana@acme.com", "ce@acme.com"]


def test_a_chunk_is_saved_with_as_many_queries_for_many_rows_as_for_few(account):
    # Per-row queries and savepoints made a 10,000-row import take minutes: a chunk reads what it
    # needs at once. (Each new row is still one INSERT per table: the ORM needs the new ids.)
    def statements(first: int, rows: int) -> int:
        lines = "".join(
            f"p{n}@firm{n % 7}.com,Person {n},Firm {n % 5},yes\n"
            for n in range(first, first + rows)
        )
        seen = []
        listen = lambda *args: seen.append(args[2])  # noqa: E731
        not_inserts = lambda: [s for s in seen if not s.startswith("INSERT")]  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            imported(account, f"email,name,company,do_not_enrich\n{lines}")
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        return len(not_inserts())

    few, many = statements(0, 5), statements(1000, 400)
    assert many <= few + 5, (few, many)
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 405


FIRST = (
    "email,name,title,company,do_not_enrich\n"
    "ana@acme.com,Ana,CTO,,\n"
    "bo@globex.com,Bo,,Globex Inc,\n"
    "cy@gmail.com,Cy,,Acme,yes\n"
)
SECOND = (
    "email,name,title,phone,company,do_not_enrich\n"
    "ANA@acme.com,,VP,,Initech,\n"  # renames her own domain's company
    "dee@initech.com,Dee,,,initech,\n"  # a company of that name now exists
    "cy@googlemail.com,,,+1 555,Hooli,no\n"  # free mail: a company without a domain
    "eve@hooli.com,Eve,,,Hooli,\n"
    "eve@hooli.com,Eve Ng,CEO,,,yes\n"  # the same person twice in the file
    "bo@globex.com,,,,,\n"
)


def _snapshot(account_id: int) -> dict:
    contacts_ = db.session.scalars(
        select(Contact).where(Contact.account_id == account_id).order_by(Contact.email)
    )
    return {
        c.email: (
            c.email_display, c.name, c.title, c.phone, c.notes, c.do_not_enrich,
            c.company and (c.company.name, c.company.domain, c.company.name_source),
            c.enrichment and c.enrichment.status, sorted(a.email for a in c.addresses),
        )
        for c in contacts_
    } | {
        "companies": sorted(
            (c.name, c.domain or "", c.name_source)
            for c in db.session.scalars(select(Company).where(Company.account_id == account_id))
        )
    }  # fmt: skip


def test_a_chunk_saved_at_once_ends_as_saved_row_by_row(make_user, monkeypatch):
    together, _ = make_user("a@one.test", account="One", token=False)
    one_by_one, _ = make_user("b@two.test", account="Two", token=False)
    reports = []
    for text in (FIRST, SECOND):
        reports.append(imported(together.account, text))
        with monkeypatch.context() as patch:
            patch.setattr(import_rows, "_save_together", lambda *args: 1 / 0)  # the fallback
            reports.append(imported(one_by_one.account, text))
    assert reports[0]["rows"] == reports[1]["rows"] and reports[2]["rows"] == reports[3]["rows"]
    statuses = [r["status"] for r in reports[2]["rows"]]
    assert statuses == ["updated", "created", "updated", "created", "updated", "updated"]
    db.session.expire_all()
    assert _snapshot(together.account_id) == _snapshot(one_by_one.account_id)


@pytest.mark.parametrize(
    ("data", "encoding", "noticed"),
    [
        ("email,name\nzoe@acme.com,Zoë Łukasz\n".encode(), "utf-8", False),
        ("email,name\nzoe@acme.com,Zoë Łukasz\n".encode("utf-8-sig"), "utf-8-sig", False),
        ("email,name\nzoe@acme.com,Zoë Łukasz\n".encode("utf-16"), "utf-16", False),
        # Without a byte-order mark: the NUL bytes of ASCII text give the byte order away.
        ("email;name\r\nzoe@acme.com;Zoë Łukasz\r\n".encode("utf-16-le"), "utf-16-le", True),
        ("email,name\nzoe@acme.com,Zoë Łukasz\n".encode("utf-16-be"), "utf-16-be", True),
        ("email,name\nzoe@acme.com,Zoë “Z” Müller\n".encode("cp1252"), "cp1252", True),
        # 0x81 is undefined in Windows-1252: only Latin-1 reads it.
        (b"email,name\nzoe@acme.com,Zo\xeb\x81\n", "latin-1", True),
    ],
    ids=["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "cp1252", "latin-1"],
)
def test_encodings(account, data, encoding, noticed):
    report = imported(account, data)
    assert report["encoding"] == encoding and report["created"] == 1
    assert bool(report["notices"]) is noticed
    name = contacts.find_contact(db.session, account.id, "zoe@acme.com").name
    assert name.startswith("Zoë")
    if encoding == "cp1252":
        assert name == "Zoë “Z” Müller"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "The file is empty."),
        (b"name,title\nAna,CTO\n", "The header row has no 'email' column."),
        (b"email,Email\na@b.co,a@b.co\n", "The header row repeats columns: email."),
        (b"\xff\xfe\x00\x00garbage", "starts as UTF-16 text but is not UTF-16"),
    ],
)
def test_unusable_files_write_nothing(account, data, problem):
    with pytest.raises(contacts_csv.CsvError, match=problem):
        import_rows.import_csv(db.session, account, data)
    assert emails() == []


def test_export_round_trips_and_defuses_formulas(account):
    imported(account, GOOD + 'eve@acme.com,=HYPERLINK("http://evil"),,,,"line one\nline two",\n')
    exported = contacts_csv.export_csv(db.session, account.id)
    assert exported.startswith("\ufeffemail,name,title,phone,company,notes,do_not_enrich\r\n")
    assert "'=HYPERLINK" in exported and "'+1 555 0100" in exported
    before = {
        c.email: (c.name, c.phone, c.notes, c.do_not_enrich)
        for c in db.session.scalars(select(Contact))
    }
    db.session.query(Contact).update({"name": "", "notes": ""})
    db.session.commit()
    report = imported(account, exported.encode("utf-8"))
    assert report["updated"] == 3 and report["failed"] == 0
    db.session.expire_all()
    after = {
        c.email: (c.name, c.phone, c.notes, c.do_not_enrich)
        for c in db.session.scalars(select(Contact))
    }
    assert after == before
    assert db.session.scalar(select(func.count()).select_from(Enrichment)) == 2


def test_imports_and_exports_without_a_user_are_audited_as_the_system(account):
    imported(account, GOOD)
    contacts_csv.export_csv(db.session, account.id)
    query = select(AuditEntry).where(AuditEntry.action.like("contacts.%")).order_by(AuditEntry.id)
    entries = db.session.scalars(query).all()
    done = [(e.action, e.actor, e.actor_id) for e in entries]
    assert done == [("contacts.import", "system", None), ("contacts.export", "system", None)]
    assert entries[0].detail == "2 created, 0 updated, 0 rejected"


def test_export_defuses_cells_starting_with_a_tab_or_carriage_return(account):
    imported(account, GOOD)
    contact = db.session.scalars(select(Contact).order_by(Contact.email)).first()
    contact.title, contact.notes = "\t=1+1", "\r@SUM(A1)"
    db.session.commit()
    rows = list(csv.reader(io.StringIO(contacts_csv.export_csv(db.session, account.id))))
    cells = [cell for row in rows for cell in row]
    assert "'\t=1+1" in cells and "'\r@SUM(A1)" in cells


@pytest.mark.parametrize(
    ("separator", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")]
)
def test_the_separator_is_found_and_reported(account, separator, name):
    # A name with the other separators in it: they are data, not separators.
    others = "".join(d for d in ",;|" if d != separator)
    quoted = f'"Ruiz{others} Ana"' if separator != "\t" else f"Ruiz{others} Ana"
    text = separator.join(["email", "name", "company"]) + "\n"
    text += separator.join(["ana@acme.com", quoted, "Acme"]) + "\n"
    report = imported(account, text)
    assert (report["delimiter"], report["created"], report["failed"]) == (separator, 1, 0)
    assert contacts_csv.DELIMITERS[report["delimiter"]] == name
    ana = contacts.find_contact(db.session, account.id, "ana@acme.com")
    assert (ana.name, ana.company.name) == (f"Ruiz{others} Ana", "Acme")


def test_a_pipe_separated_file_is_not_refused_for_its_email_column():
    upload = contacts_csv.read(b"Email|First name|Company\nana@acme.com|Ana|Acme\n")
    assert upload.delimiter == "|" and upload.header[0] == "email"
    assert upload.written == ["Email", "First name", "Company"]
    assert contacts_csv.delimiter_of("email\nana@acme.com\n") == ","  # one column: no separator
