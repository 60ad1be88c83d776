"""The CSV format of contacts (docs/contacts.md): reading and checking an import's file, and the
export. Saving the rows is import_rows.py's; running an import as a job is imports.py's.

Import reports per row: a bad row rejects only itself. Empty cells leave stored values.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.common import audit, csv_safe
from server.common.addresses import AddressError, normalize_email
from server.models import Contact, User

COLUMNS = ("email", "name", "title", "phone", "company", "notes", "do_not_enrich")
ALIASES = {"e-mail": "email", "email_address": "email", "company_name": "company"}
LIMITS = {"name": 200, "title": 200, "phone": 50, "company": 200, "notes": 10_000}
# What the API and the settings page accept as one file (docs/contacts.md says the same): room
# for 50,000 rows with long notes, or about half a million plain ones. There is no row limit.
MAX_MB = 50
MAX_BYTES = MAX_MB * 1024 * 1024
# The separators a file may use, with the name the import's report gives each.
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
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
    delimiter: str
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
            "delimiter": self.delimiter,
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


def delimiter_of(text: str) -> str:
    """The separator the header row uses most (comma when it has none: a single column)."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _reader(text: str, delimiter: str):
    """A CSV reader over the text and the header row as written; CsvError when there is none."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        return reader, next(reader)
    except StopIteration as exc:
        raise CsvError("The file is empty.") from exc
    except csv.Error as exc:
        raise CsvError(f"The header row cannot be read: {exc}.") from exc


def _records(reader) -> Iterator[tuple[int, list[str] | str]]:
    """(line number, cells or csv error text) for each data row after the header; blank rows
    are skipped. A generator: a large file is never held as a list of rows."""
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, f"malformed CSV: {exc}"
            continue
        if "".join(cells).strip():
            yield line, cells


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
    """A CSV file whose header was read and checked: its text, the encoding and separator used,
    notices, and the header row as written and as column names."""

    text: str
    encoding: str
    delimiter: str
    notices: list[str]
    written: list[str]
    header: list[str]

    def records(self) -> Iterator[tuple[int, list[str] | str]]:
        """(line number, cells or the CSV error that made the row unreadable), row by row."""
        reader, _ = _reader(self.text, self.delimiter)
        return _records(reader)

    def count(self) -> int:
        """How many records the file holds (one quick pass, keeping none of them)."""
        return sum(1 for _ in self.records())

    def chunks(self, size: int) -> Iterator[list[tuple[int, list[str] | str]]]:
        """The records, `size` at a time."""
        records = self.records()
        while chunk := list(itertools.islice(records, size)):
            yield chunk


def read(data: bytes) -> Upload:
    """Decode a file and check its header (quick: nothing is written); CsvError if it cannot
    be imported."""
    return parse(*decode(data))


def parse(text: str, encoding: str, notices: list[str]) -> Upload:
    """Check decoded text's header; CsvError if it cannot be imported."""
    delimiter = delimiter_of(text)
    _, written = _reader(text, delimiter)
    header = _header(written)
    ignored = [h for h in header if h and h not in COLUMNS]
    if ignored:
        notices = [*notices, f"Ignored columns: {', '.join(ignored)}."]
    return Upload(text, encoding, delimiter, notices, written, header)


def audit_import(session: Session, account_id: int, counts: dict, actor: User | None) -> None:
    """Record an import's outcome in the audit log."""
    detail = (
        f"{counts['created']} created, {counts['updated']} updated, {counts['failed']} rejected"
    )
    audit.record(session, account_id, "contacts.import", actor=actor, detail=detail)


def changes_of(values: dict) -> dict:
    """A checked row's edits to its contact: the cells that are not empty."""
    changes = {k: values[k] for k in ("name", "title", "phone", "notes") if values.get(k)}
    if values.get("company"):
        changes["company_name"] = values["company"]
    flag = values.get("do_not_enrich", "").lower()
    if flag:
        changes["do_not_enrich"] = flag in TRUE
    return changes


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
