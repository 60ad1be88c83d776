"""Saving imported rows, a chunk at a time, with a few queries per chunk rather than per row.

`save` reads what a chunk's rows need in one query each (their contacts with company and
enrichment, the companies of their domains and of the company names they give, the address
spellings already filed), applies the rows in file order in memory (a later row about the same
person sees the earlier one), flushes them together and queues their contact.updated webhooks
with the endpoints read once. All of it runs in one savepoint: when anything fails (a case the
code did not foresee, or another writer creating one of the contacts meanwhile), the chunk is
rolled back and saved again row by row, each row in its own savepoint, so a bad row rejects only
itself and leaves nothing behind.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, insert, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from server.common.addresses import company_domain, company_name_guess
from server.contacts import csv_io, enrichment
from server.contacts import service as contacts
from server.contacts.csv_io import ImportReport, RowResult
from server.models import Account, Company, Contact, ContactAddress, User
from server.models.base import utcnow
from server.webhooks import hits as webhooks
from server.webhooks.events import subscribers

log = logging.getLogger(__name__)
CHUNK = 500  # rows saved together by `import_csv` (the job chooses its own)


def import_csv(
    session: Session, account: Account, data: bytes, actor: User | None = None
) -> ImportReport:
    """Create or update the account's contacts from CSV bytes, audited; the caller commits.

    `actor` is the user importing; None (the command line) is recorded as the system.
    """
    upload = csv_io.read(data)
    results = []
    for records in upload.chunks(CHUNK):
        results += save(session, account, upload.header, records)
    report = ImportReport(upload.encoding, upload.delimiter, upload.notices, results)
    csv_io.audit_import(session, account.id, report.counts(), actor)
    return report


def save(session: Session, account: Account, header: list[str], records: list) -> list[RowResult]:
    """Check and save records (line number, cells or the CSV error that made the row
    unreadable); one result per record, in order. The caller commits."""
    results: dict[int, RowResult] = {}
    valid = []
    for line, cells in records:
        if isinstance(cells, str):
            results[line] = RowResult(line, None, "error", [cells])
            continue
        values, errors = csv_io.parse_row(header, cells)
        if errors:
            results[line] = RowResult(line, values.get("email") or None, "error", errors)
        else:
            valid.append((line, values))
    if valid:
        try:
            with session.begin_nested():
                saved = _save_together(session, account, valid)
        except Exception:  # rolled back: the slow way finds the row at fault
            log.warning("CSV import: a chunk is saved row by row", exc_info=True)
            saved = [_save_one(session, account, line, values) for line, values in valid]
        results |= {r.row: r for r in saved}
    return [results[line] for line, _ in records]


def _save_together(session: Session, account: Account, rows: list) -> list[RowResult]:
    """Apply the checked rows in memory over what `_Known` read, then flush them at once."""
    now, known = utcnow(), _Known(session, account.id, [values for _, values in rows])
    results, changed, new = [], {}, {}
    for line, values in rows:
        contact, created = known.contact(session, values, now)
        named = known.named(values.get("company", ""))
        fields = contacts.apply_changes(session, contact, csv_io.changes_of(values), named)
        known.file(contact.company)
        if created or contact in new:
            new[contact] = True  # asked for once it is stored, flag as the file leaves it
        else:
            enrichment.request(session, contact, now, flush=False)
        changed.setdefault(contact, set()).update(fields)
        results.append(RowResult(line, values["email"], "created" if created else "updated"))
    session.flush()  # the new contacts get their ids (on SQLite one INSERT each: no sentinel)
    # Rows nobody reads back in this chunk go in one INSERT per table.
    known.file_spellings(session)
    enrichment.request_new(session, account, list(new), now)
    endpoints = subscribers(session, {account.id}).get(account.id, [])
    for contact, fields in changed.items():
        if fields and endpoints:
            webhooks.emit_contact(session, contact, sorted(fields), endpoints)
    return results


class _Known:
    """What a chunk's rows refer to, read once: contacts by address, companies by domain and by
    name, spellings filed; kept up to date as the rows create and rename."""

    def __init__(self, session: Session, account_id: int, rows: list[dict]):
        self.account_id = account_id
        keys = {v["email"] for v in rows}
        self.contacts = {
            c.email: c
            for c in session.scalars(
                select(Contact)
                .where(Contact.account_id == account_id, Contact.email.in_(keys))
                .options(selectinload(Contact.company), selectinload(Contact.enrichment))
            )
        }
        domains = {d for k in keys if (d := company_domain(k))}
        names = {v["company"].lower() for v in rows if v.get("company")}
        firms = session.scalars(
            select(Company)
            .where(
                Company.account_id == account_id,
                or_(Company.domain.in_(domains), func.lower(Company.name).in_(names)),
            )
            .order_by(Company.id)
        ).all()
        self.by_domain = {c.domain: c for c in firms if c.domain}
        self.by_name: dict[str, list[Company]] = {}
        self._filed: dict[int, str] = {}  # id() of a company -> the name it is filed under
        for firm in [*firms, *(c.company for c in self.contacts.values() if c.company)]:
            self.file(firm)
        spellings = {_spelling(v["address"]) for v in rows}
        self.new_spellings: list[tuple[Contact, str]] = []
        self.spellings = set(
            session.scalars(
                select(ContactAddress.email).where(
                    ContactAddress.account_id == account_id, ContactAddress.email.in_(spellings)
                )
            )
        )

    def contact(self, session: Session, values: dict, now) -> tuple[Contact, bool]:
        """The row's contact, created (with its domain's company) when new; (contact, created)."""
        key, seen = values["email"], values["address"].strip().strip("<>").strip()
        contact = self.contacts.get(key)
        created = contact is None
        if created:
            domain = company_domain(key)
            company = self._company_of(session, domain) if domain else None
            # Every column given, so the new rows of a chunk share one INSERT's shape and the
            # flush sends them in batches rather than one by one.
            contact = Contact(
                account_id=self.account_id, email=key, email_display=seen, name="", title="",
                phone=None, notes="", do_not_enrich=False, company_id=None, created_at=now,
                updated_at=now,
            )  # fmt: skip
            contact.company = company
            session.add(contact)
            self.contacts[key] = contact
        if seen.lower() not in self.spellings:
            # The spelling recipients use, so the contact's messages can be found by it.
            self.new_spellings.append((contact, seen.lower()))
            self.spellings.add(seen.lower())
        return contact, created

    def file_spellings(self, session: Session) -> None:
        """Store the spellings the rows brought, once their contacts have ids."""
        if self.new_spellings:
            rows = [
                {"account_id": self.account_id, "contact_id": contact.id, "email": spelling}
                for contact, spelling in self.new_spellings
            ]
            session.execute(insert(ContactAddress), rows)

    def _company_of(self, session: Session, domain: str) -> Company:
        company = self.by_domain.get(domain)
        if company is None:
            company = Company(
                account_id=self.account_id,
                domain=domain,
                name=company_name_guess(domain),
                name_source="domain",
            )
            session.add(company)
            self.by_domain[domain] = company
            self.file(company)
        return company

    def named(self, name: str) -> list[Company]:
        """The companies of that name (any case), oldest first, new ones last."""
        return list(self.by_name.get(name.strip().lower(), ()))

    def file(self, company: Company | None) -> None:
        """File the company under its name as it is now (new, or renamed by a row)."""
        if company is None:
            return
        key, before = company.name.lower(), self._filed.get(id(company))
        if key == before:
            return
        if before is not None:
            self.by_name[before].remove(company)
        listed = self.by_name.setdefault(key, [])
        listed.append(company)
        listed.sort(key=lambda c: (c.id is None, c.id or 0))  # stable: new ones in order made
        self._filed[id(company)] = key


def _spelling(address: str) -> str:
    return address.strip().strip("<>").strip().lower()


def _save_one(session: Session, account: Account, line: int, values: dict) -> RowResult:
    """Write one row in a savepoint: all of it, or (on any error) none of it."""
    try:
        with session.begin_nested():
            contact, created = contacts.upsert_contact(session, account.id, values["address"])
            contacts.update_contact(session, contact, csv_io.changes_of(values))
            # A no-op while enrichment is off for the contact or a fresh answer is cached.
            enrichment.request(session, contact, utcnow())
    except SQLAlchemyError as exc:
        reason = f"could not be saved: {type(exc).__name__}"
        return RowResult(line, values["email"], "error", [reason])
    except Exception:  # the savepoint is rolled back; the other rows go on
        log.exception("CSV import: row %s could not be saved", line)
        return RowResult(line, values["email"], "error", ["could not be saved"])
    return RowResult(line, values["email"], "created" if created else "updated")
