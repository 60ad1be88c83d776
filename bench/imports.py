"""A large contact import through the job worker, on SQLite: how many rows a second it saves.

`python -m bench.imports [ROWS]` (50,000 by default) builds a migrated SQLite database in a
temporary folder, writes a CSV file of ROWS contacts (names, titles, phones, companies, notes;
one row in fifty rejected, one address in ten on free mail), checks and queues it as the settings
page does (`imports.plan`, the run submitted to the app's Huey queue), and runs a Huey consumer on
that queue, as the worker does. It prints the run's progress as the job page polls it, then the
time the request took, the time the job took and the rows per second.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from server import create_app
from server.accounts import users as accounts
from server.common import job_runs
from server.contacts import imports
from server.extensions import db
from server.models import Contact, JobRun
from tests.conftest import make_settings
from tests.support.jobs import worker

TITLES = ("CTO", "VP Sales", "Head of Growth", "Founder", "Account Executive", "")


def csv_file(rows: int) -> bytes:
    """ROWS contacts as CSV; every fiftieth row's address is not one (it is rejected)."""
    lines = ["email,name,title,phone,company,notes"]
    for n in range(rows):
        domain = "gmail.com" if n % 10 == 0 else f"firm{n % 2000}.example"
        email = f"lead.{n}@{domain}" if n % 50 else f"lead {n} at {domain}"
        company = f"Firm {n % 2000}" if n % 3 else ""
        note = f'"met at the fair, row {n}, asked about the annual plan"' if n % 4 == 0 else ""
        lines.append(f"{email},Lead {n},{TITLES[n % 6]},+1 555 {n % 10000:04d},{company},{note}")
    return ("\n".join(lines) + "\n").encode()


def main(rows: int) -> None:
    """Import ROWS rows through the worker and print the figures."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        settings = make_settings(f"sqlite:///{path / 'bench.db'}", instance_path=path)
        app = create_app(settings.replace(testing=False))
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            user = accounts.create_user(db.session, "bench@example.com", "Bench", admin=True)
            db.session.commit()
            data = csv_file(rows)
            began = time.monotonic()
            run = imports.plan(db.session, user, data)
            job_runs.submit(db.session, job_runs.current_queue(), run)
            asked = time.monotonic() - began
            print(f"{rows} rows, {len(data) / 1e6:.1f} MB: checked and queued in {asked:.2f} s")
            took = _follow(app, run.id)
            run = db.session.get(JobRun, run.id, populate_existing=True)
            saved = db.session.scalar(select(func.count()).select_from(Contact))
            print(f"status {run.status}: {run.result['created']} created, {run.result['failed']}"
                  f" rejected, {saved} contacts stored")  # fmt: skip
            print(f"job: {took:.1f} s, {rows / took:,.0f} rows/s")


def _follow(app, run_id: str) -> float:
    """Run the worker until the run ends, printing its progress each second; the job's time."""
    with worker(app, workers=1):
        began = shown = time.monotonic()
        while True:
            db.session.expire_all()
            run = db.session.get(JobRun, run_id)
            db.session.commit()
            if run.finished:
                return (run.finished_at - run.started_at).total_seconds()
            if time.monotonic() - shown >= 1:
                shown = time.monotonic()
                print(f"  {shown - began:5.1f} s  {run.status}: {run.done} of {run.total}")
            time.sleep(0.2)  # a poll, as the job page's


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
