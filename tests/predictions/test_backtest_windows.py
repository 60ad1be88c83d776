"""The backtest's windows never learn from the future: whatever happens after a window's
training cut-off (outcomes not yet known, later engagements, later messages) leaves its models
and its forecasts exactly as they were, while a change to its past does change them."""

from __future__ import annotations

import dataclasses
import random

import pytest

from server.predictions import backtest, features
from server.predictions.history import Engagement, Sent

DAY = 86400.0
END = 200 * DAY


def synthetic(seed: int = 3) -> tuple[list[Sent], list[Engagement]]:
    """Sixty contacts in six companies, a message a week each for 20 weeks, with real signal."""
    rng = random.Random(seed)
    rows, events = [], []
    for c in range(60):
        contact, domain = f"p{c}@co{c % 6}.example", f"co{c % 6}.example"
        lift = rng.gauss(0, 1.0) + (c % 6 - 2.5) * 0.3
        for week in range(20):
            sent = END - (20 - week) * 7 * DAY + rng.uniform(0, 5) * DAY
            opened = sent + rng.uniform(1, 30) * 3600 if rng.random() < 0.5 + lift / 4 else None
            replied = None
            if opened and rng.random() < 0.25 + lift / 6:
                replied = opened + rng.uniform(1, 40) * 3600
            rows.append(Sent(f"m{c}-{week}", c % 3, contact, domain, sent, opened, replied))
            events += [Engagement(contact, domain, "open", opened)] if opened else []
            events += [Engagement(contact, domain, "reply", replied)] if replied else []
    rows.sort(key=lambda r: r.sent_at)
    events.sort(key=lambda e: e.at)
    return rows, events


def flipped(row: Sent) -> Sent:
    """The row with the opposite outcome."""
    if row.replied_at is not None:
        return dataclasses.replace(row, opened_at=None, replied_at=None)
    return dataclasses.replace(row, opened_at=row.sent_at + 60, replied_at=row.sent_at + 120)


@pytest.fixture(scope="module")
def data():
    rows, events = synthetic()
    window = backtest.windows(END, 3)[-1]
    return rows, events, window, backtest.run_window(rows, events, window)


def test_windows_are_consecutive_weeks_whose_outcomes_are_all_known():
    ws = backtest.windows(END, 3)
    assert [w.test_until - w.train_until for w in ws] == [7 * DAY] * 3
    assert ws[0].test_until == ws[1].train_until and ws[1].test_until == ws[2].train_until
    assert ws[-1].test_until == END - features.HORIZON


def test_what_is_unknown_at_the_cut_off_never_changes_the_models(data):
    rows, events, w, before = data
    assert before is not None and before["train"] >= backtest.MIN_TRAIN
    # Outcomes not known by the cut-off (including messages sent in its last 7 days) flipped,
    # every later engagement moved, and more mail after the test week.
    future_rows = [r if features.resolved_by(r, w.train_until) else flipped(r) for r in rows]
    future_rows += [Sent(f"x{i}", 0, "p1@co1.example", "co1.example", END + i, END + i + 1, None)
                    for i in range(50)]  # fmt: skip
    future_events = [e if e.at < w.train_until else dataclasses.replace(e, at=e.at + 5 * 3600)
                     for e in events]  # fmt: skip
    future_events.sort(key=lambda e: e.at)
    after = backtest.run_window(future_rows, future_events, w)
    assert after["weights"] == before["weights"]
    assert after["kappas"] == before["kappas"]


def test_the_test_weeks_outcomes_never_change_its_forecasts(data):
    rows, events, w, before = data
    relabelled = [flipped(r) if r.sent_at >= w.train_until else r for r in rows]
    after = backtest.run_window(relabelled, events, w)
    for target in ("reply", "open"):
        assert after[target][0] == before[target][0]  # the same probabilities...
        assert after[target][1] != before[target][1]  # ...scored against other outcomes


def test_a_change_to_the_past_does_change_the_models(data):
    """The tests above can fail: the models do depend on what was known at the cut-off."""
    rows, events, w, before = data
    past = [flipped(r) if features.resolved_by(r, w.train_until) and i % 3 == 0 else r
            for i, r in enumerate(rows)]  # fmt: skip
    after = backtest.run_window(past, events, w)
    assert after["weights"] != before["weights"]


def test_the_backtest_scores_against_the_baselines(data):
    rows, events, _, _ = data
    result = backtest.backtest(rows, events, END, weeks=3)
    assert len(result["windows"]) == 3
    reply = result["reply"]
    assert reply["n"] == sum(w["test"] for w in result["windows"])
    assert reply["baseline"]["name"] == "the account's base rate"
    assert reply["beats_baseline"] == (reply["model"]["log_loss"] < reply["baseline"]["log_loss"])
    assert result["best_time"]["baseline"]["name"] == "same hour as the contact's last reply"
