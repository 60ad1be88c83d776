"""A report as CSV: the same numbers the API gives, one row per person and period."""

from __future__ import annotations

import io

from server.common import csv_safe
from server.insights.reports import COUNTS, DELAYS, RATES
from server.models.base import iso
from server.models.message import VERDICTS

COLUMNS = (
    "who",
    "period",
    "start",
    "end",
    *COUNTS,
    *RATES,
    *DELAYS,
    "hits_total",
    "machine_share",
    *(f"hits_{v}" for v in VERDICTS),
)


def _row(who: str, period: str, point: dict, start, end) -> list:
    figures = [point[name] for name in (*COUNTS, *RATES, *DELAYS, "hits_total", "machine_share")]
    hits = [point["hits"][v] for v in VERDICTS]
    return [who, period, iso(start), iso(end), *figures, *hits]


def csv_text(report: dict) -> str:
    """The report's series (the team's or the rep's), then each rep's last two periods."""
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow(COLUMNS)
    who = report["user"]["email"] if report["user"] else "team"
    for point in report["series"]:
        writer.writerow(_row(who, report["period"], point, point["start"], point["end"]))
    current, previous = report["current"], report["previous"]
    for rep in report["reps"] or []:  # a team report only
        for point, when in ((rep["previous"], previous), (rep["current"], current)):
            writer.writerow(
                _row(rep["user"]["email"], report["period"], point, when["start"], when["end"])
            )
    return out.getvalue()
