"""Every table of the schema is answered for: a personal-data provider finds and erases its rows
about a person, or the table is listed here as holding nothing about one, with the reason. A
new table fails this test until it is put in one place or the other."""

from __future__ import annotations

from server.common import personal_data
from server.extensions import db

NOT_PERSONAL = {
    "accounts": "the customer organisation (its name, switches); ended by termination",
    "sub_processors": "companies the account hands data to, not people",
    "sub_processor_changes": "announced changes of that company list",
    "webhook_endpoints": "the customer's own receiving URLs, secrets and switches; ended by "
    "termination",
    "prediction_backtests": "an account's backtest scores, calibration bins and model "
    "coefficients: aggregates over its messages, naming no person or message; replaced by "
    "each run, removed with the demo data by `demo clear`",
    "ip_hash_keys": "random per-period keys, nobody's data; deleted when their period ends",
    "erasure_ledger": "keyed digests of erased addresses, kept to erase them again after a "
    "restore; without the key they name nobody (docs/backup.md)",
}


def test_every_table_is_covered_by_a_provider_or_listed_as_not_personal(app):
    tables = {t.name for t in db.metadata.sorted_tables}
    covered = personal_data.covered_tables()
    assert tables - covered - set(NOT_PERSONAL) == set(), "tables no provider answers for"
    assert covered & set(NOT_PERSONAL) == set()
    assert covered | set(NOT_PERSONAL) <= tables, "providers or the list name unknown tables"
    assert all(reason.strip() for reason in NOT_PERSONAL.values())
