"""Driving a target with wrk and reading its report."""

from __future__ import annotations

import re
import subprocess
from dataclasses import asdict, dataclass

from bench.tools import BenchError

CONNECTIONS = 32
THREADS = 2
# wrk sends no User-Agent; a real mail client does, and the classifier treats an empty one as a
# bot. A desktop browser's keeps the recorded hits on the path real opens take.
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
# A residential address (Comcast's 73.0.0.0/8), sent as a proxy would: every hit goes through the
# trusted-proxy parsing and the owner lookup (cached per /24 block, as with real traffic).
FORWARDED_FOR = "73.15.22.9"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_LATENCY = re.compile(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.M)
_MAX = re.compile(r"^\s*Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s|m)\s", re.M)
_REQUESTS = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", re.M)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass
class LoadResult:
    """What one wrk run measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    seconds: float
    bad_status: int
    socket_errors: int

    def as_dict(self) -> dict:
        """JSON-friendly form."""
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(self).items()}


def run_wrk(wrk: str, url: str, seconds: float) -> LoadResult:
    """Drive `url` for `seconds` at the fixed connection count and parse wrk's report."""
    if not url.startswith("http://127.0.0.1:"):
        raise BenchError(f"refusing to load anything but 127.0.0.1: {url}")
    command = [
        wrk,
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "--latency",
        "-H",
        f"User-Agent: {USER_AGENT}",
        "-H",
        f"X-Forwarded-For: {FORWARDED_FOR}",
        url,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}):\n{result.stderr or result.stdout}")
    return parse_wrk(result.stdout)


def parse_wrk(text: str) -> LoadResult:
    """Read req/s, p50, p99, completed requests and errors from wrk's --latency output."""
    latencies = {pct: float(value) * _UNITS[unit] for pct, value, unit in _LATENCY.findall(text)}
    requests, rate = _REQUESTS.search(text), _RATE.search(text)
    if not (requests and rate and {"50", "99"} <= latencies.keys()):
        raise BenchError(f"could not read wrk's report:\n{text}")
    longest = _MAX.search(text)
    non_2xx = _NON_2XX.search(text)
    sockets = _SOCKET.search(text)
    return LoadResult(
        rps=float(rate.group(1)),
        p50_ms=latencies["50"],
        p99_ms=latencies["99"],
        max_ms=float(longest.group(1)) * _UNITS[longest.group(2)] if longest else latencies["99"],
        requests=int(requests.group(1)),
        seconds=float(requests.group(2)) * _UNITS[requests.group(3)] / 1000.0,
        bad_status=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )
