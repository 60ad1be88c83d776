"""The rules that need a message's other hits, on plain data."""

from __future__ import annotations

from server.tracking.context_rules import MessageContext, Windows, apply, burst_threshold

W = Windows(scanner=10, burst=3, self_view=120)


def click(i, at, url, verdict="human"):
    return {
        "id": f"e{i}",
        "kind": "click",
        "occurred_at": at,
        "link_url": url,
        "verdict": verdict,
        "reasons": "",
    }


def test_burst_threshold_follows_the_number_of_links():
    assert [burst_threshold(n) for n in (0, 1, 2, 3, 10)] == [3, 2, 2, 3, 3]


def test_every_link_within_seconds_is_a_scanner_and_stored_clicks_are_reported():
    ctx = MessageContext(link_count=3, recent_clicks=[("old", 100.0, "https://a/", "human")])
    batch = [
        click(1, 100.5, "https://b/"),
        click(2, 101.0, "https://c/"),
        click(3, 500, "https://a/"),
    ]
    assert apply(batch, ctx, W) == {"old"}
    assert [e["verdict"] for e in batch] == ["scanner", "scanner", "human"]
    assert batch[0]["reasons"] == "link-burst"


def test_one_link_clicked_many_times_is_not_a_burst_and_stays_linear():
    batch = [click(i, 100 + i / 1000, "https://a/") for i in range(20000)]
    assert apply(batch, MessageContext(link_count=3), W) == set()
    assert {e["verdict"] for e in batch} == {"human"}


def test_machine_verdicts_are_never_relabelled():
    batch = [click(i, 100 + i / 10, f"https://{i}/", verdict="bot") for i in range(5)]
    apply(batch, MessageContext(link_count=5, sent_at=99, self_views=[100]), W)
    assert {e["verdict"] for e in batch} == {"bot"}


def test_self_view_wins_over_timing():
    event = {
        "id": "x",
        "kind": "open",
        "occurred_at": 100,
        "link_url": None,
        "verdict": "proxy",
        "reasons": "gmail-image-proxy",
    }
    apply([event], MessageContext(sent_at=95, self_views=[160]), W)
    assert (event["verdict"], event["reasons"]) == ("self", "gmail-image-proxy,self-view")
