"""The outside tools the bench drives: nginx and wrk (installed when missing), ports, processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")


class BenchError(RuntimeError):
    """Something the bench needs broke: a tool is missing, a server did not start, wrk failed."""


def find_nginx() -> str | None:
    """The nginx binary, on PATH or where Debian puts it (sbin is often not on a user's PATH)."""
    found = shutil.which("nginx")
    if found:
        return found
    return next((p for p in NGINX_CANDIDATES if os.access(p, os.X_OK)), None)


def ensure_tools() -> tuple[str, str]:
    """Paths of nginx and wrk; installs them from Debian packages when missing and root."""
    nginx, wrk = find_nginx(), shutil.which("wrk")
    if nginx and wrk:
        return nginx, wrk
    missing = [name for name, path in (("nginx", nginx), ("wrk", wrk)) if not path]
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise BenchError(
            f"{' and '.join(missing)} not found. Install them first, for example: "
            "sudo apt-get install -y nginx-light wrk"
        )
    print(f"installing {', '.join(missing)} from Debian packages ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _apt(["apt-get", "update"], env)
    _apt(["apt-get", "install", "-y", "--no-install-recommends", "nginx-light", "wrk"], env)
    nginx, wrk = find_nginx(), shutil.which("wrk")
    if not (nginx and wrk):
        raise BenchError("nginx or wrk still missing after apt-get install")
    return nginx, wrk


def _apt(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], log: Path, **kwargs) -> subprocess.Popen:
    """Start a server in its own process group, its output going to `log`."""
    with log.open("ab") as out:
        # Its own session: Ctrl-C reaches only the bench, which then stops it in order.
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )


def wait_ready(proc: subprocess.Popen, url: str, log: Path, timeout: float = 30.0) -> None:
    """Wait until `url` answers 2xx; fail with the server's log if it exits or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"server exited with {proc.returncode}:\n{tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if 200 <= response.status < 300:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise BenchError(f"server did not answer {url} within {timeout:.0f}s:\n{tail(log)}")


def stop(proc: subprocess.Popen, timeout: float = 45.0) -> int | None:
    """Stop gracefully (SIGINT, as Ctrl-C would), then kill its process group if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            proc.wait(timeout=5)
            return None
    # Workers left behind by a main process that died badly go too.
    kill_group(proc)
    return proc.returncode


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group this bench started for `proc` (its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def cpu_busy(seconds: float = 1.0) -> float | None:
    """The fraction of all CPUs busy over the next `seconds` (Linux), to spot competing work."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            ticks = [int(n) for n in stat.readline().split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # idle + iowait

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def tail(log: Path, lines: int = 30) -> str:
    """The last lines of a log file, for error messages."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
