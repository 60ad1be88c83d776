"""The periodic job that replays spool files left by web workers that died."""

from __future__ import annotations

import json
import subprocess
import sys

from huey import MemoryHuey

from server.extensions import db
from server.jobs import register_tasks
from server.models import Event
from tests.support import make_event, report_message


def test_the_periodic_task_replays_orphaned_spools(app, settings, kid):
    report_message(kid)
    events = [make_event(kid) for _ in range(12)]
    code = (
        "import json, sys, os; from pathlib import Path; from server.tracking.sinks import Spool; "
        "Spool(Path(sys.argv[1])).append(json.loads(sys.argv[2])); os._exit(0)"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(settings.spool_dir), json.dumps(events)], check=True
    )
    tasks = register_tasks(MemoryHuey(immediate=True), app)
    assert tasks["replay_spools"].call_local() == 12
    assert db.session.query(Event).count() == 12
    assert tasks["replay_spools"].call_local() == 0
