"""What an answer fills in on the contact and its company, and taking it back.

An answer fills only blanks (a name or title nobody typed, a company name guessed from the
domain). What it filled is recorded on the Enrichment row (`filled`), so that marking the contact
do-not-enrich, or deleting the answer, removes those values too — unless a person has changed
them since.
"""

from __future__ import annotations

from server.common.addresses import company_name_guess
from server.models import Enrichment


def fill_blanks(row: Enrichment, result) -> None:
    """Use the answer where nobody has typed anything better; record what was filled."""
    contact, filled = row.contact, dict(row.filled or {})
    person, company = result.person or {}, result.company or {}
    name = ((person.get("name") or {}).get("full") or "")[:200]
    title = ((person.get("employment") or {}).get("title") or "")[:200]
    if not contact.name and name:
        contact.name = filled["name"] = name
    if not contact.title and title:
        contact.title = filled["title"] = title
    firm = contact.company
    guessed = firm is not None and firm.name_source == "domain"
    if guessed and company.get("name") and company.get("domain") in (None, firm.domain):
        firm.name, firm.name_source = company["name"][:200], "enrichment"
        filled["company_id"], filled["company_name"] = firm.id, firm.name
    row.filled = filled or None


def take_back(row: Enrichment) -> None:
    """Remove from the contact (and its company) what this answer filled and nobody changed.

    The caller deletes the row itself, so its record of what was filled goes with it.
    """
    contact, filled = row.contact, row.filled or {}
    if filled.get("name") and contact.name == filled["name"]:
        contact.name = ""
    if filled.get("title") and contact.title == filled["title"]:
        contact.title = ""
    firm = contact.company
    if firm is None or firm.id != filled.get("company_id") or firm.name_source != "enrichment":
        return
    if firm.name == filled.get("company_name"):
        firm.name = company_name_guess(firm.domain) if firm.domain else ""
        firm.name_source = "domain"
