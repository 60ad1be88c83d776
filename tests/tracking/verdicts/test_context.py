"""The rules that need a message's other hits, on plain data."""

from __future__ import annotations

from server.tracking.verdicts.context import (
    MessageContext,
    SelfViewRow,
    Windows,
    apply,
    burst_possible,
    claim_self_views,
)

W = Windows(scanner=10, burst=3, self_view=30)


def hit(i, at, kind="open", verdict="human", url=None, reasons=""):
    return {
        "id": f"e{i}",
        "kind": kind,
        "occurred_at": at,
        "link_url": url,
        "verdict": verdict,
        "reasons": reasons,
    }


def click(i, at, url, verdict="human"):
    return hit(i, at, "click", verdict, url)


def test_a_burst_needs_two_links_at_least():
    assert [burst_possible(n) for n in (0, 1, 2, 3)] == [False, False, True, True]


def test_three_links_within_the_window_are_a_scanner_and_stored_clicks_are_reported():
    ctx = MessageContext(link_count=3, recent_clicks=[("old", 100.0, "https://a/", "human")])
    batch = [
        click(1, 101.5, "https://b/"),
        click(2, 102.8, "https://c/"),
        click(3, 500, "https://a/"),
    ]
    assert apply(batch, ctx, W).burst_ids == {"old"}
    assert [e["verdict"] for e in batch] == ["scanner", "scanner", "human"]
    assert batch[0]["reasons"] == "link-burst"


def test_two_links_within_a_second_are_a_scanner():
    batch = [click(1, 100.0, "https://a/"), click(2, 100.4, "https://b/")]
    apply(batch, MessageContext(link_count=2), W)
    assert [e["verdict"] for e in batch] == ["scanner", "scanner"]


def test_a_person_tapping_two_links_seconds_apart_is_a_person():
    batch = [click(1, 100.0, "https://a/"), click(2, 102.2, "https://b/")]
    apply(batch, MessageContext(link_count=2, sent_at=0), W)
    assert [e["verdict"] for e in batch] == ["human", "human"]


def test_one_link_clicked_many_times_is_not_a_burst_and_stays_linear():
    batch = [click(i, 100 + i / 1000, "https://a/") for i in range(20000)]
    assert apply(batch, MessageContext(link_count=3), W).burst_ids == set()
    assert {e["verdict"] for e in batch} == {"human"}


def test_machine_verdicts_are_never_relabelled():
    batch = [click(i, 100 + i / 10, f"https://{i}/", verdict="bot") for i in range(5)]
    ctx = MessageContext(link_count=5, sent_at=99, self_views=[SelfViewRow(1, 100)])
    apply(batch, ctx, W)
    assert {e["verdict"] for e in batch} == {"bot"}


def test_hits_seconds_after_sending_are_a_scanner_but_proxies_are_not():
    batch = [hit(1, 105), hit(2, 106, verdict="proxy"), hit(3, 200)]
    apply(batch, MessageContext(sent_at=100), W)
    assert [e["verdict"] for e in batch] == ["scanner", "proxy", "human"]


def test_a_proxy_open_before_the_view_is_never_the_senders():
    """Dana opens (Gmail proxy), the rep is notified and views the thread seconds later."""
    dana = hit(1, 100, verdict="proxy", reasons="gmail-image-proxy")
    claims = claim_self_views([dana], [SelfViewRow(7, 100.5)], W.self_view)
    assert claims == {}
    assert dana["verdict"] == "proxy"


def test_a_view_explains_the_next_fetch_after_it_and_only_one():
    earlier = hit(1, 50, verdict="proxy", reasons="gmail-image-proxy")
    caused = hit(2, 101.5, verdict="proxy", reasons="gmail-image-proxy")
    later = hit(3, 110, verdict="proxy", reasons="gmail-image-proxy")
    claims = claim_self_views([earlier, caused, later], [SelfViewRow(7, 100)], W.self_view)
    assert claims == {7: "e2"}
    assert [e["verdict"] for e in (earlier, caused, later)] == ["proxy", "self", "proxy"]
    assert caused["reasons"] == "gmail-image-proxy,self-view"


def test_direct_opens_are_never_the_senders_gmail():
    """No Gmail shows an image without its proxy: a direct open is the recipient's."""
    before, after = hit(1, 98, verdict="human"), hit(2, 101, verdict="human")
    assert claim_self_views([before, after], [SelfViewRow(7, 100)], W.self_view) == {}
    assert {before["verdict"], after["verdict"]} == {"human"}


def test_opens_long_before_or_after_the_view_are_untouched():
    hits = [hit(1, 10), hit(2, 94), hit(3, 131, verdict="proxy", reasons="gmail-image-proxy")]
    assert claim_self_views(hits, [SelfViewRow(7, 100)], W.self_view) == {}
    assert {e["verdict"] for e in hits} == {"human", "proxy"}


def test_two_views_explain_two_fetches():
    gmail = "gmail-image-proxy"
    hits = [
        hit(1, 101, "open", "proxy", reasons=gmail),
        hit(2, 102, "open", "proxy", reasons=gmail),
    ]
    views = [SelfViewRow(1, 100), SelfViewRow(2, 100.5)]
    assert claim_self_views(hits, views, W.self_view) == {1: "e1", 2: "e2"}


def test_clicks_are_never_the_senders_view():
    link = click(1, 101, "https://a/")
    assert claim_self_views([link], [SelfViewRow(7, 100)], W.self_view) == {}


def test_self_view_wins_over_timing():
    event = hit(1, 100, verdict="proxy", reasons="gmail-image-proxy")
    apply([event], MessageContext(sent_at=95, self_views=[SelfViewRow(1, 99)]), W)
    assert (event["verdict"], event["reasons"]) == ("self", "gmail-image-proxy,self-view")
