"""A process started with the parent-death signal ends when its parent is killed outright."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The parent starts its child exactly as `flask serve` starts its children, prints the child's pid
# and waits to be killed.
PARENT = textwrap.dedent(
    """
    import subprocess, sys, time
    from server.common.process import die_with_parent
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], preexec_fn=die_with_parent
    )
    print(child.pid, flush=True)
    time.sleep(120)
    """
)


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its reaper does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_a_child_ends_with_its_parent_killed_by_sigkill():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        child = int(parent.stdout.readline())
        assert alive(child)
        parent.kill()
        parent.wait(30)
        deadline = time.monotonic() + 30
        while alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(child)
    finally:
        parent.kill()
        if "child" in locals() and alive(child):
            os.kill(child, signal.SIGKILL)
