"""Replay the labelled scenarios against a server and print verdict accuracy per kind of traffic.

Against a live server (`make verdicts` runs this against `make run`'s server; it must trust this
machine's X-Forwarded-For, TRUSTED_PROXIES=127.0.0.1/32):

    python -m tests.tracking.verdicts.labelled.replay --url http://127.0.0.1:5000 --token lc_…

Each scenario reports its message through the API, backdated so that its first hit arrives as
many seconds after sending as the scenario says, then sends its hits (from the scenario's
address, as X-Forwarded-For) at the scenario's pace; scenarios run side by side. The pytest module
beside this file replays the same set in-process on a virtual clock.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import requests

HERE = Path(__file__).parent
REAL = ("human", "proxy")


def load(path: Path = HERE / "scenarios.json") -> list[dict]:
    """The scenario set."""
    return json.loads(path.read_text())


def message_body(scenario: dict, sent_at: float) -> dict:
    """The API's message report for a scenario, sent at unix time `sent_at`."""
    links = "".join(
        f'<p><a href="https://www.acme.example/offer/{i}">Link {i}</a></p>'
        for i in range(scenario["links"])
    )
    return {
        "recipients": [{"email": r} for r in scenario["recipients"]],
        "subject": f"Replay {scenario['name']}",
        "html": f"<p>Hello</p>{links}",
        "sent_at": datetime.fromtimestamp(sent_at, UTC).isoformat(),
    }


def path_of(url: str) -> str:
    """The path (and query) of a tracking URL, whatever host it names."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def compare(scenarios: list[dict], observed: dict[str, list[str]]) -> dict:
    """Per-hit results: (traffic, expected, got), in scenario order."""
    rows = []
    for scenario in scenarios:
        expected = [h["expect"] for h in scenario["hits"] if h["kind"] != "self-view"]
        got = observed.get(scenario["name"], [])
        got = got + ["missing"] * (len(expected) - len(got))
        rows += [(scenario["traffic"], e, g) for e, g in zip(expected, got, strict=False)]
    return {"rows": rows, "bursts": _bursts(scenarios, observed)}


def _bursts(scenarios: list[dict], observed: dict[str, list[str]]) -> tuple[int, int]:
    """(whole scanner scenarios caught, scanner scenarios): every hit labelled scanner."""
    total = caught = 0
    for s in scenarios:
        expected = [h["expect"] for h in s["hits"] if h["kind"] != "self-view"]
        if expected and all(e == "scanner" for e in expected) and len(expected) > 1:
            total += 1
            caught += observed.get(s["name"], []) == expected
    return caught, total


def summary(result: dict) -> dict:
    """The figures the issue asks for."""
    rows = result["rows"]
    right = sum(e == g for _, e, g in rows)
    scanners = [(e, g) for _, e, g in rows if e == "scanner"]
    real_lost = [(t, e, g) for t, e, g in rows if e in REAL and g not in (*REAL, "self")]
    caught, bursts = result["bursts"]
    return {
        "hits": len(rows),
        "accuracy": right / len(rows),
        "scanner_caught": sum(g == "scanner" for _, g in scanners) / max(1, len(scanners)),
        "real_opens_mislabelled": len(real_lost),
        "bursts_caught": f"{caught}/{bursts}",
    }


def report(result: dict, out=sys.stdout) -> dict:
    """Print accuracy per kind of traffic and the totals; return the totals."""
    per: dict[str, Counter] = defaultdict(Counter)
    wrong: Counter = Counter()
    for traffic, expected, got in result["rows"]:
        per[traffic]["n"] += 1
        per[traffic]["right"] += expected == got
        if expected != got:
            wrong[(traffic, expected, got)] += 1
    print(f"{'traffic':28} {'hits':>5} {'right':>7}", file=out)
    for traffic, c in sorted(per.items()):
        print(f"{traffic:28} {c['n']:5} {c['right'] / c['n']:7.1%}", file=out)
    for (traffic, expected, got), n in sorted(wrong.items()):
        print(f"  wrong: {traffic}: expected {expected}, got {got} ({n})", file=out)
    totals = summary(result)
    print(
        f"accuracy {totals['accuracy']:.1%} of {totals['hits']} hits; scanner hits caught "
        f"{totals['scanner_caught']:.1%}; whole scanner bursts {totals['bursts_caught']}; "
        f"real opens labelled otherwise: {totals['real_opens_mislabelled']}",
        file=out,
    )
    return totals


class LiveReplay:
    """Replays scenarios against a running server, in real time, side by side.

    Every message is reported first, one after another, with the sending time its scenario's
    schedule implies; then each scenario's hits go out on that schedule. So a slow report under
    load never shifts a hit's time since sending (the rules that count seconds after sending would
    see the replay's lag, not the scenario).
    """

    STAGGER = 0.05  # seconds between scenario starts
    REPORT_BUDGET = 0.04  # seconds per message report reserved before the first start

    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.api = {"Authorization": f"Bearer {token}"}

    def run(self, scenarios: list[dict]) -> dict:
        """Replay every scenario; return the verdicts the server stored, per scenario."""
        t0 = time.time() + 2 + len(scenarios) * self.REPORT_BUDGET
        starts = [t0 + i * self.STAGGER for i in range(len(scenarios))]
        created = [self._report(s, start) for s, start in zip(scenarios, starts, strict=True)]
        counts: dict[str, int] = {}
        threads = [
            threading.Thread(target=self._scenario, args=(s, start, data, counts))
            for s, start, data in zip(scenarios, starts, created, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {
            s["name"]: self._verdicts(data["id"], counts[s["name"]])
            for s, data in zip(scenarios, created, strict=True)
        }

    def _report(self, scenario: dict, start: float) -> dict:
        body = message_body(scenario, start - scenario["hits"][0]["at"])
        created = requests.post(f"{self.url}/api/v1/messages", json=body, headers=self.api)
        created.raise_for_status()
        data = created.json()
        if not data.get("pixel_url"):
            raise SystemExit("tracking is off for the replay's account: nothing would be recorded")
        return data

    def _scenario(self, scenario: dict, start: float, data: dict, counts: dict) -> None:
        first = scenario["hits"][0]["at"]
        links = [path_of(link["tracked_url"]) for link in data["links"]]
        count = 0
        for step in scenario["hits"]:
            time.sleep(max(0.0, start + step["at"] - first - time.time()))
            if step["kind"] == "self-view":
                requests.post(
                    f"{self.url}/api/v1/messages/{data['id']}/self-view", json={}, headers=self.api
                ).raise_for_status()
                continue
            path = path_of(data["pixel_url"]) if step["kind"] == "open" else links[step["link"]]
            headers = step["headers"] | {"X-Forwarded-For": step["ip"]}
            requests.request(
                step["method"], self.url + path, headers=headers, allow_redirects=False
            )
            count += 1
        counts[scenario["name"]] = count

    def _verdicts(self, mid: str, count: int, timeout: float = 60) -> list[str]:
        deadline = time.time() + timeout
        while True:
            detail = requests.get(f"{self.url}/api/v1/messages/{mid}", headers=self.api).json()
            if len(detail["events"]) >= count or time.time() > deadline:
                return [e["verdict"] for e in detail["events"]]
            time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    """Command line: replay against --url with --token; exit 1 below the goals."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--token", required=True)
    parser.add_argument("--scenarios", type=Path, default=HERE / "scenarios.json")
    args = parser.parse_args(argv)
    scenarios = load(args.scenarios)
    observed = LiveReplay(args.url, args.token).run(scenarios)
    totals = report(compare(scenarios, observed))
    met = (
        totals["accuracy"] >= 0.97
        and totals["real_opens_mislabelled"] == 0
        and totals["scanner_caught"] >= 0.90
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
