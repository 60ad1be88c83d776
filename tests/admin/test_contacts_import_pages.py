"""The import form takes files up to csv_io.MAX_BYTES (past the app's 1 MiB), answers a larger one
with our own 413 page, and the job's report offers the rejected rows as a formula-safe CSV file to
whoever started the import and the account's admins."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from server.contacts import csv_io
from tests.support.admin import csrf_from
from tests.support.jobs import run_jobs

ROOT = Path(__file__).resolve().parents[2]


def _upload(client, data: bytes, name: str = "leads.csv"):
    token = csrf_from(client.get("/admin/contacts").text)
    return client.post(
        "/admin/contacts/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _padded(size: int) -> bytes:
    """A valid CSV file of about `size` bytes: one contact, then long rows of notes."""
    head = b"email,notes\nana@acme.com,hello\n"
    row = b"," + b"n" * 998 + b"\n"  # no address: rejected, but only once the job reads it
    return head + row * ((size - len(head)) // len(row))


def test_a_file_larger_than_the_app_wide_mib_is_taken(app, login, people):
    client = login(people.rep)
    queued = _upload(client, _padded(3 * 1024 * 1024))
    assert queued.status_code == 303 and queued.headers["Location"].startswith("/admin/jobs/")


def test_a_file_over_the_limit_gets_our_413_page(app, login, people, monkeypatch):
    monkeypatch.setattr(csv_io, "MAX_MB", 2)
    monkeypatch.setattr(csv_io, "MAX_BYTES", 2 * 1024 * 1024)
    client = login(people.rep)
    # Far over: the body is refused before the form is read (the CSRF check reads it first);
    # just over: the view sees the file is one byte too many.
    for data in (_padded(3 * 1024 * 1024), b"email\n" + b"a" * (2 * 1024 * 1024)):
        refused = _upload(client, data)
        assert refused.status_code == 413 and refused.mimetype == "text/html"
        assert ">The file is too large</h1>" in refused.text
        assert "One import takes a CSV file of up to 2 MB." in refused.text
        assert 'rel="stylesheet"' in refused.text and "Back to the contacts" in refused.text
    page = client.get("/admin/contacts").text
    assert "A file of up to 2 MB" in page


def test_the_documented_limit_is_the_one_enforced():
    docs = (ROOT / "docs/contacts.md").read_text()
    assert f"up to {csv_io.MAX_MB} MB" in docs
    assert f"{csv_io.MAX_MB} MB" in (ROOT / "docs/api.md").read_text()


def test_the_report_says_how_the_file_was_read_and_offers_its_rejected_rows(app, login, people):
    client = login(people.rep)
    data = (
        "email\tname\tphone\n"
        "ana@acme.com\tAnaïs\t+1 555 0100\n"
        "bo@acme.com\t@SUM(A1)\tcall me!\n"
        "not-an-address\t=1+1\t\n"
        '"ce@acme.com\tCe\n'  # an unclosed quote: the rest of the file is one bad row
    ).encode("cp1252")
    job = _upload(client, data).headers["Location"]
    run_jobs(app)
    report = client.get(job).text
    assert "1 created, 0 updated, 3 rejected." in report
    assert "Read as CP1252, columns separated by tabs." in report
    link = f"/admin/contacts/import/{job.rsplit('/', 1)[1]}/rejected.csv"
    assert f'href="{link}"' in report
    got = client.get(link)
    assert got.status_code == 200 and got.mimetype == "text/csv"
    assert got.headers["Content-Disposition"].startswith('attachment; filename="rejected-rows-')
    rows = list(csv.reader(io.StringIO(got.get_data(as_text=True).removeprefix("\ufeff"))))
    assert rows[:3] == [
        ["row", "reason", "email", "name", "phone"],
        ["3", "phone: only digits, spaces and + ( ) . - / # * , ; are allowed",
         "bo@acme.com", "'@SUM(A1)", "call me!"],
        ["4", "email: 'not-an-address' is not an email address", "not-an-address", "'=1+1", ""],
    ]  # fmt: skip
    assert rows[3][0] == "5" and rows[3][1].startswith("malformed CSV") and rows[3][2:] == []


def test_the_rejected_rows_are_for_the_importer_and_the_admins(app, login, people, make_user):
    job = _upload(login(people.rep), b"email\nnope\n").headers["Location"]
    run_jobs(app)
    link = f"/admin/contacts/import/{job.rsplit('/', 1)[1]}/rejected.csv"
    assert login(people.admin).get(link).status_code == 200
    colleague, _ = make_user("colleague@acme.test", token=False)
    assert login(colleague).get(link).status_code == 404
    assert login(people.other).get(link).status_code == 404
    assert login(people.rep).get("/admin/contacts/import/nothing/rejected.csv").status_code == 404
    anonymous = app.test_client().get(link)
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
