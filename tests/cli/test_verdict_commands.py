"""`flask network show|update` and `flask verdicts rerun` from the command line."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from datetime import UTC, datetime

import pytest

from server.tracking.verdicts import network

AWS = {
    "prefixes": [{"ip_prefix": "3.5.140.0/22"}],
    "ipv6_prefixes": [{"ipv6_prefix": "2600:1f00::/24"}],
}
RELAY = "172.224.224.0/27,GB,GB-EN,London,\n104.28.0.0/24,US,US-CA,Los Angeles,\n"
DATA = {
    "version": "2026-01-01",
    "operators": {
        "aws": {
            "category": "cloud",
            "ranges": ["3.0.0.0/9"],
            "sources": [
                {
                    "url": "https://ip-ranges.amazonaws.com/ip-ranges.json",
                    "format": "json",
                    "date": "x",
                }
            ],
        },
        "icloud-private-relay": {
            "category": "apple-relay",
            "ranges": ["1.1.1.0/24"],
            "sources": [
                {"url": "https://mask-api.icloud.com/egress-ip-ranges.csv", "format": "csv"}
            ],
        },
        "mimecast": {
            "category": "security-gateway",
            "ranges": ["207.211.30.0/24"],
            "sources": [{"url": "https://example.invalid/help-page", "date": "2020-10-27"}],
        },
        "broken": {
            "category": "cloud",
            "ranges": ["5.5.5.0/24"],
            "sources": [{"url": "https://gone.example/list.txt", "format": "lines"}],
        },
    },
}


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server holding copies of two of the operators' lists."""
    root = tmp_path / "mirror"
    (root / "ip-ranges.amazonaws.com").mkdir(parents=True)
    (root / "ip-ranges.amazonaws.com" / "ip-ranges.json").write_text(json.dumps(AWS))
    (root / "mask-api.icloud.com").mkdir()
    (root / "mask-api.icloud.com" / "egress-ip-ranges.csv").write_text(RELAY)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_update_refreshes_what_it_can_and_keeps_the_rest(app, mirror, tmp_path):
    source = tmp_path / "data.json"
    source.write_text(json.dumps(DATA))
    result = app.test_cli_runner().invoke(
        args=["network", "update", "--mirror", mirror, "--source", str(source)]
    )
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "networks.json").read_text())
    ops = written["operators"]
    today = datetime.now(UTC).date().isoformat()
    assert written["version"] == today
    assert ops["aws"]["ranges"] == ["3.5.140.0/22", "2600:1f00::/24"]
    assert ops["aws"]["sources"][0]["date"] == today
    assert ops["icloud-private-relay"]["ranges"] == ["104.28.0.0/24", "172.224.224.0/27"]
    assert ops["mimecast"]["ranges"] == ["207.211.30.0/24"]  # a help page: kept as it was
    assert ops["broken"]["ranges"] == ["5.5.5.0/24"]  # not reachable: kept, and said
    assert "not refreshed: broken" in result.output
    # The updated copy is the data in force from now on.
    assert network.data_path(tmp_path) == tmp_path / "networks.json"


def test_show_lists_the_operators_of_the_data_in_force(app):
    result = app.test_cli_runner().invoke(args=["network", "show"])
    assert result.exit_code == 0, result.output
    assert "icloud-private-relay" in result.output and "security-gateway" in result.output


def test_rerun_reports_what_it_relabelled(app, rep):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["verdicts", "rerun", "--since", "2026-01-01"])
    assert result.exit_code == 0, result.output
    assert "0 hits of 0 messages looked at, 0 relabelled" in result.output
    unknown = runner.invoke(args=["verdicts", "rerun", "--account", "Nobody"])
    assert unknown.exit_code != 0 and "Nobody" in unknown.output
