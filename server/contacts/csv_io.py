"""CSV import and export of contacts (format in docs/contacts.md).

Import reports per row: a bad row rejects only itself, and each row is written in its own
savepoint, so a row that fails half-way leaves nothing behind. Empty cells leave stored values.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.common import audit, csv_safe
from server.common.addresses import AddressError, normalize_email
from server.contacts import enrichment
from server.contacts import service as contacts
from server.models import Account, Contact, User
from server.models.base import utcnow

log = logging.getLogger(__name__)
COLUMNS = ("email", "name", "title", "phone", "company", "notes", "do_not_enrich")
ALIASES = {"e-mail": "email", "email_address": "email", "company_name": "company"}
LIMITS = {"name": 200, "title": 200, "phone": 50, "company": 200, "notes": 10_000}
MAX_ROWS = 10_000
MAX_BYTES = 5 * 1024 * 1024  # what the API and the admin page accept as one file
PHONE = re.compile(r"^[0-9A-Za-z +()./#*,;-]*$")
TRUE, FALSE = {"true", "yes", "y", "1", "x"}, {"false", "no", "n", "0"}


class CsvError(ValueError):
    """A file that cannot be imported at all (no rows were written)."""


@dataclass
class RowResult:
    """The outcome of one data row; `row` is its line number in the file (header = 1)."""

    row: int
    email: str | None
    status: str  # created, updated or error
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportReport:
    """What an import did, row by row."""

    encoding: str
    notices: list[str]
    rows: list[RowResult]

    def counts(self) -> dict[str, int]:
        """Rows created, updated and failed."""
        count = {s: sum(r.status == s for r in self.rows) for s in ("created", "updated", "error")}
        return {"created": count["created"], "updated": count["updated"], "failed": count["error"]}

    def as_dict(self) -> dict:
        """The report as JSON-serialisable data."""
        return {
            "encoding": self.encoding,
            "notices": self.notices,
            **self.counts(),
            "rows": [r.__dict__ for r in self.rows],
        }


def decode(data: bytes) -> tuple[str, str, list[str]]:
    """The file's text, the encoding used, and notices about guesses made."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError as exc:
            raise CsvError("The file starts as UTF-16 text but is not UTF-16.") from exc
    order = _utf16_order(data)
    if order is not None:
        try:
            text = data.decode(order)
        except UnicodeDecodeError:
            pass
        else:
            notice = f"The file has no byte-order mark; it was read as {order.upper()}."
            return text, order, [notice]
    try:
        encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
        return data.decode("utf-8-sig"), encoding, []
    except UnicodeDecodeError:
        pass
    for fallback, label in (("cp1252", "Windows-1252"), ("latin-1", "ISO-8859-1 (Latin-1)")):
        try:
            text = data.decode(fallback)
        except UnicodeDecodeError:
            continue
        notice = f"The file is not UTF-8; it was read as {label}. Check accented characters."
        return text, fallback, [notice]
    raise AssertionError("latin-1 decodes any bytes")


def _utf16_order(data: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" when the bytes look like UTF-16 text without a BOM, else None.

    CSV headers are ASCII, so in UTF-16 every other byte is NUL: the odd bytes in little-endian
    order, the even ones in big-endian. Text in an 8-bit encoding has no NUL bytes at all.
    """
    sample = data[:512]
    if len(sample) < 4 or (len(sample) % 2 and len(data) == len(sample)):
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) >= len(odd) * 0.9 and not even.count(0):
        return "utf-16-le"
    if even.count(0) >= len(even) * 0.9 and not odd.count(0):
        return "utf-16-be"
    return None


def _header(cells: list[str]) -> list[str]:
    names = [ALIASES.get(c.strip().lower().replace(" ", "_"), c.strip().lower()) for c in cells]
    names = [n.replace(" ", "_") for n in names]
    if "email" not in names:
        raise CsvError("The header row has no 'email' column.")
    duplicated = sorted({n for n in names if n and names.count(n) > 1})
    if duplicated:
        raise CsvError(f"The header row repeats columns: {', '.join(duplicated)}.")
    return names


def _records(text: str):
    """(line number, cells or csv error text) for each data row, after the header."""
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = _header(next(reader))
    except StopIteration as exc:
        raise CsvError("The file is empty.") from exc
    except csv.Error as exc:
        raise CsvError(f"The header row cannot be read: {exc}.") from exc
    records = []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            records.append((line, f"malformed CSV: {exc}"))
            continue
        if any(c.strip() for c in cells):
            records.append((line, cells))
    return header, records


def _clean(value: str) -> str:
    # Undo the export's guard against spreadsheet formulas ('=...), so a round trip is lossless.
    return csv_safe.unguard(value.strip()).strip()


def parse_row(header: list[str], cells: list[str]) -> tuple[dict, list[str]]:
    """The row's known columns, cleaned, and what is wrong with it."""
    extra = cells[len(header) :]
    if len(cells) < len(header) or any(c.strip() for c in extra):
        return {}, [f"the row has {len(cells)} fields, the header has {len(header)}"]
    values = {h: _clean(c) for h, c in zip(header, cells, strict=False) if h in COLUMNS}
    errors = []
    values["address"] = values.get("email", "")
    try:
        values["email"] = normalize_email(values["address"])
    except AddressError:
        errors.append(f"email: {values.get('email') or '(empty)'!r} is not an email address")
    for name, limit in LIMITS.items():
        if len(values.get(name, "")) > limit:
            errors.append(f"{name}: longer than {limit} characters")
    if not PHONE.match(values.get("phone", "")):
        errors.append("phone: only digits, spaces and + ( ) . - / # * , ; are allowed")
    flag = values.get("do_not_enrich", "").lower()
    if flag and flag not in TRUE | FALSE:
        errors.append(f"do_not_enrich: {flag!r} is not true or false")
    return values, errors


@dataclass
class Upload:
    """A CSV file read and checked: its text, the encoding used, notices, header and records."""

    text: str
    encoding: str
    notices: list[str]
    header: list[str]
    records: list  # (line number, cells or the CSV error that made the row unreadable)


def read(data: bytes) -> Upload:
    """Decode and check a file (quick: nothing is written); CsvError if it cannot be imported."""
    return parse(*decode(data))


def parse(text: str, encoding: str, notices: list[str]) -> Upload:
    """Check decoded text; CsvError if it cannot be imported."""
    header, records = _records(text)
    if len(records) > MAX_ROWS:
        raise CsvError(f"The file has {len(records)} rows; at most {MAX_ROWS} per import.")
    ignored = [h for h in header if h and h not in COLUMNS]
    if ignored:
        notices = [*notices, f"Ignored columns: {', '.join(ignored)}."]
    return Upload(text, encoding, notices, header, records)


def import_csv(
    session: Session, account: Account, data: bytes, actor: User | None = None
) -> ImportReport:
    """Create or update the account's contacts from CSV bytes, audited; the caller commits.

    `actor` is the user importing; None (the command line) is recorded as the system.
    """
    upload = read(data)
    results = [row_result(session, account, upload.header, *record) for record in upload.records]
    report = ImportReport(upload.encoding, upload.notices, results)
    audit_import(session, account.id, report.counts(), actor)
    return report


def audit_import(session: Session, account_id: int, counts: dict, actor: User | None) -> None:
    """Record an import's outcome in the audit log."""
    detail = (
        f"{counts['created']} created, {counts['updated']} updated, {counts['failed']} rejected"
    )
    audit.record(session, account_id, "contacts.import", actor=actor, detail=detail)


def row_result(
    session: Session, account: Account, header: list[str], line: int, cells
) -> RowResult:
    """Check and save one record (cells, or the CSV error that made it unreadable)."""
    if isinstance(cells, str):
        return RowResult(line, None, "error", [cells])
    values, errors = parse_row(header, cells)
    if errors:
        return RowResult(line, values.get("email") or None, "error", errors)
    return _save(session, account, line, values)


def _changes(values: dict) -> dict:
    changes = {k: values[k] for k in ("name", "title", "phone", "notes") if values.get(k)}
    if values.get("company"):
        changes["company_name"] = values["company"]
    flag = values.get("do_not_enrich", "").lower()
    if flag:
        changes["do_not_enrich"] = flag in TRUE
    return changes


def _save(session: Session, account: Account, line: int, values: dict) -> RowResult:
    """Write one row in a savepoint: all of it, or (on any error) none of it."""
    try:
        with session.begin_nested():
            contact, created = contacts.upsert_contact(session, account.id, values["address"])
            contacts.update_contact(session, contact, _changes(values))
            # A no-op while enrichment is off for the contact or a fresh answer is cached.
            enrichment.request(session, contact, utcnow())
    except SQLAlchemyError as exc:
        reason = f"could not be saved: {type(exc).__name__}"
        return RowResult(line, values["email"], "error", [reason])
    except Exception:  # the savepoint is rolled back; the other rows go on
        log.exception("CSV import: row %s could not be saved", line)
        return RowResult(line, values["email"], "error", ["could not be saved"])
    return RowResult(line, values["email"], "created" if created else "updated")


def export_csv(session: Session, account_id: int, actor: User | None = None) -> str:
    """Every contact of the account as CSV (UTF-8 with a BOM, so spreadsheets read accents).

    Audited (a bulk copy of personal data), so the caller commits; `actor` None is the system.
    """
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv_safe.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    query = select(Contact).where(Contact.account_id == account_id).order_by(Contact.email)
    for c in session.scalars(query):
        company = c.company.name if c.company else ""
        flag = "true" if c.do_not_enrich else "false"
        row = (c.email_display, c.name, c.title, c.phone, company, c.notes, flag)
        writer.writerow(row)
    audit.record(session, account_id, "contacts.export", actor=actor)
    return out.getvalue()
