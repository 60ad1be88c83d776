"""`python -m bench.run`: nginx, bare Flask and our pixel and redirect under the same load.

Order: nginx static GIF, bare Flask under our web server's command line, then ours on SQLite and on
PostgreSQL (pixel, then click, each on a fresh server so its events can be counted after a graceful
stop), then the mixed load on SQLite: the pixel quiet, then with Gmail sends and a contact import
in flight as jobs (bench/mixed.py). Everything listens on 127.0.0.1 only and every process
started here is stopped on exit.
Exit status: 0 with a report (targets may be missed), 1 when something broke, 130 on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bench import leadcamp, mixed, report, servers, tools
from bench import reports as report_bench
from bench.load import CONNECTIONS, THREADS, run_wrk
from bench.tools import BenchError

OUT = Path(__file__).resolve().parent / "out" / "latest.json"
WARMUP_S = 2.0


class Bench:
    """One bench run: its tools, scratch directory and the processes it must stop."""

    def __init__(self, workdir: Path, duration: float):
        self.nginx, self.wrk = tools.ensure_tools()
        self.workdir = workdir
        self.duration = duration
        self.running: list[subprocess.Popen] = []

    def launch(self, command: Callable[[int], list[str]], ready: str, log: Path, **kw) -> tuple:
        """Start a server on a free port and wait until `ready` answers; returns (proc, base)."""
        port = tools.free_port()
        proc = tools.start(command(port), log, **kw)
        self.running.append(proc)
        base = f"http://127.0.0.1:{port}"
        tools.wait_ready(proc, base + ready, log)
        return proc, base

    def launch_web(self, env: dict[str, str], target: str, ready: str, log: Path) -> tuple:
        """Start `target` under our web server's command line; returns (proc, base)."""
        command = lambda port: servers.web_server(port, target)  # noqa: E731
        return self.launch(command, ready, log, cwd=leadcamp.ROOT, env=env)

    def measure(self, base: str, warm_path: str, path: str) -> dict:
        """Warm up on one path, then measure another; returns wrk's figures."""
        run_wrk(self.wrk, base + warm_path, WARMUP_S)
        return run_wrk(self.wrk, base + path, self.duration).as_dict()

    def stop(self, proc: subprocess.Popen, log: Path) -> None:
        """Stop one server gracefully; a server that had to be killed is a failure."""
        code = tools.stop(proc)
        self.running.remove(proc)
        if code is None:
            raise BenchError(f"server did not stop within 45s:\n{tools.tail(log)}")

    def stop_all(self) -> None:
        """Stop whatever is still running (on errors and Ctrl-C)."""
        for proc in reversed(self.running):
            tools.stop(proc, timeout=10)
        self.running.clear()

    def nginx_static(self) -> dict:
        """nginx serving the GIF as a static file."""
        workdir, log = self.workdir / "nginx", self.workdir / "nginx.log"
        proc, base = self.launch(
            lambda port: servers.nginx_command(self.nginx, workdir, port), "/pixel.gif", log
        )
        result = self.measure(base, "/pixel.gif", "/pixel.gif")
        self.stop(proc, log)
        return result

    def bare_flask(self) -> dict:
        """The bare Flask app under our web server's command line."""
        env = leadcamp.base_env(self.workdir / "bare", "sqlite://")
        log = self.workdir / "bare.log"
        proc, base = self.launch_web(env, servers.BARE_TARGET, "/o/warm.gif", log)
        result = self.measure(base, "/o/warm.gif", "/o/bench.gif")
        self.stop(proc, log)
        return result

    def ours(self, name: str, database_url: str) -> dict:
        """Our pixel and redirect on one database, each on a fresh server."""
        env = leadcamp.base_env(self.workdir / name, database_url)
        token = leadcamp.prepare(env)
        return {kind: self.ours_once(name, kind, env, token) for kind in ("pixel", "click")}

    def start_helpers(self, env: dict[str, str], log: Path, *commands: list[str]) -> list:
        """Start the service's other processes (writer, job worker) beside the web server."""
        helpers = [tools.start(c, log, cwd=leadcamp.ROOT, env=env) for c in commands]
        self.running += helpers
        return helpers

    def mixed_load(self, name: str, database_url: str) -> dict:
        """The pixel on one server, quiet and then with slow work in flight as jobs."""
        with mixed.FakeGmail() as gmail:
            env = leadcamp.base_env(self.workdir / name, database_url) | mixed.google_env(gmail.url)
            token = leadcamp.prepare(env)
            leadcamp.flask_cli(env, "accounts", "sending", "on", "Bench")
            leadcamp.run_command(env, mixed.connect_command(leadcamp.EMAIL))
            log = self.workdir / f"{name}-mixed.log"
            proc, base = self.launch_web(env, servers.OUR_TARGET, "/robots.txt", log)
            helpers = [leadcamp.drain_command()] if leadcamp.needs_drainer(env) else []
            helpers = self.start_helpers(env, log, *helpers, mixed.worker_command())
            warm, quiet, busy = (leadcamp.register_message(base, token) for _ in range(3))
            runs = {"quiet": self.measure(base, warm["pixel"], quiet["pixel"])}
            slow = mixed.SlowWork(base, token)
            slow.start()
            try:
                runs["busy"] = run_wrk(self.wrk, base + busy["pixel"], self.duration).as_dict()
            finally:
                work = slow.stop()
            self.stop(proc, log)
            for helper in helpers:
                self.stop(helper, log)
            work["gmail_sends"] = gmail.sent
        for key, message in (("quiet", quiet), ("busy", busy)):
            runs[key] = counted(runs[key], env, message["id"])
        return {**runs, "slow_work": work}

    def ours_once(self, name: str, kind: str, env: dict[str, str], token: str) -> dict:
        """Load one kind of hit, stop the server gracefully and count what it stored."""
        log = self.workdir / f"{name}-{kind}.log"
        proc, base = self.launch_web(env, servers.OUR_TARGET, "/robots.txt", log)
        drainer = None
        if leadcamp.needs_drainer(env):
            drainer = tools.start(leadcamp.drain_command(), log, cwd=leadcamp.ROOT, env=env)
            self.running.append(drainer)
        # Fresh messages per run, one for warm-up and one measured, keep each count clean.
        warm, measured = (leadcamp.register_message(base, token) for _ in range(2))
        result = self.measure(base, warm[kind], measured[kind])
        # Workers hand their batches over as they exit, and the writer stores them before it
        # stops: count only after both stopped gracefully, the web server first.
        self.stop(proc, log)
        if drainer is not None:
            self.stop(drainer, log)
        result = counted(result, env, measured["id"])
        leadcamp.drop_stream(env)
        return result


def counted(result: dict, env: dict[str, str], message_id: str) -> dict:
    """wrk's figures for one message with what the database stored of it."""
    persisted = leadcamp.count_events(env["DATABASE_URL"], message_id)
    served = result["requests"]
    return {
        **result,
        "served": served,
        "persisted": persisted,
        "lost": max(0, served - persisted),
        "in_flight_extra": persisted - served,
        "spooled_bytes": leadcamp.spooled_bytes(Path(env["INSTANCE_PATH"])),
    }


def run(duration: float) -> tuple[dict, dict]:
    """Run every target in order; returns (results, meta)."""
    notes = [
        "wrk and the servers share the CPUs: compare ratios within one run, not across machines.",
        "served = responses wrk completed; persisted = rows in events for the measured message;"
        " extra > 0 are requests the server answered after wrk stopped reading.",
    ]
    busy = tools.cpu_busy()
    if busy is not None and busy > 0.15:
        notes.append(f"{busy:.0%} of the CPUs were busy before the bench began: figures are noisy.")
    with tempfile.TemporaryDirectory(prefix="leadcamp-bench-") as tmp:
        bench = Bench(Path(tmp), duration)
        try:
            results = collect(bench, notes)
        finally:
            bench.stop_all()
    meta = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_s": duration,
        "warmup_s": WARMUP_S,
        "threads": THREADS,
        "connections": CONNECTIONS,
        "cpus": os.cpu_count(),
        "cpu_busy_before": None if busy is None else round(busy, 3),
        "web_server": servers.describe_web_server(),
        "web_server_extra_args": os.environ.get("BENCH_SERVER_ARGS", ""),
        "notes": notes + report.spool_notes(results),
    }
    results["checks"] = report.checks(results)
    return results, meta


def collect(bench: Bench, notes: list[str]) -> dict:
    """The measurements: nginx, bare Flask, ours on SQLite, ours on PostgreSQL when it answers."""
    results: dict = {}
    print("nginx static GIF ...", flush=True)
    results["nginx"] = bench.nginx_static()
    print("bare Flask GIF ...", flush=True)
    results["bare"] = bench.bare_flask()
    print("ours on SQLite ...", flush=True)
    results["sqlite"] = bench.ours("sqlite", f"sqlite:///{bench.workdir / 'bench.db'}")
    print("ours on SQLite, mixed load ...", flush=True)
    results["mixed"] = bench.mixed_load("mixed", f"sqlite:///{bench.workdir / 'mixed.db'}")
    with leadcamp.postgres_database() as url:
        if url is None:
            notes.append("PostgreSQL did not answer: its part was skipped.")
        else:
            print("ours on PostgreSQL ...", flush=True)
            try:
                results["postgresql"] = bench.ours("postgresql", url)
            finally:
                bench.stop_all()  # before the database is dropped under it
    # Reports over 1M events, each database of its own (bench/reports.py).
    results["reports"] = report_bench.run()
    return results


def main() -> int:
    """Entry point: run, print, save; the exit status says whether the bench itself worked."""
    # SIGTERM (a CI timeout, `kill`) must stop the servers too: turn it into Ctrl-C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        duration = float(os.environ.get("BENCH_DURATION", "10"))
    except ValueError:
        print("BENCH_DURATION must be a number of seconds", file=sys.stderr)
        return 2
    try:
        results, meta = run(duration)
    except (BenchError, OSError, SQLAlchemyError, subprocess.SubprocessError) as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench interrupted; servers stopped", file=sys.stderr)
        return 130
    print()
    print(report.render(results, meta), end="")
    report.write_json(OUT, results, meta)
    print(f"\nwritten to {OUT.relative_to(leadcamp.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
