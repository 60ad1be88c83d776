"""Empirical Bayes shrinkage on fixtures: the prior strength from the children's spread, the
posterior means, and best time's contact -> company -> account -> flat chain."""

from __future__ import annotations

import pytest

from server.predictions import best_time, shrinkage
from server.predictions.history import Engagement

HALF = [0.5, 0.5]


def test_shrink_adds_kappa_pseudo_counts_of_the_parent():
    assert shrinkage.shrink([3, 1], HALF, 2.0) == pytest.approx([4 / 6, 2 / 6])
    assert shrinkage.shrink([0, 0], [0.2, 0.8], 5.0) == pytest.approx([0.2, 0.8])
    assert shrinkage.weight(6, 2) == 0.75


def test_strength_from_the_spread_beyond_chance():
    # D = 1 for the two lopsided children, 0 for the even ones; sum n(D - 1/n) = 3 + 3 - 1 - 1
    # = 4 over sum (n - 1) = 12: rho = 1/3, so kappa = 1/rho - 1 = 2.
    children = [([4, 0], HALF), ([0, 4], HALF), ([2, 2], HALF), ([2, 2], HALF)]
    assert shrinkage.strength(children, default=10.0) == pytest.approx(2.0)


def test_no_spread_beyond_chance_pools_fully_and_all_spread_hardly_at_all():
    even = [([2, 2], HALF), ([3, 3], HALF)]
    assert shrinkage.strength(even, default=10.0) == pytest.approx(1 / 0.001 - 1)
    apart = [([4, 0], HALF), ([0, 4], HALF)]
    assert shrinkage.strength(apart, default=10.0) == pytest.approx(1 / 0.999 - 1)


def test_without_evidence_the_default_strength():
    assert shrinkage.strength([([1, 0], HALF), ([0, 0], HALF)], default=7.0) == 7.0


def at_hour(hour: int, day: int = 7) -> float:
    """A unix time on 1970-01-(day+1) at `hour` UTC."""
    return day * 86400 + hour * 3600


def test_best_time_chains_contact_company_account_flat():
    events = [Engagement("a@x.example", "x.example", "open", at_hour(9, d)) for d in (7, 8)]
    events += [Engagement("b@x.example", "x.example", "reply", at_hour(15, d)) for d in range(4)]
    events.sort(key=lambda e: e.at)
    hours, _ = best_time.clocks(events)
    # Account: (counts + 24 * 1/24) / (6 + 24): hour 9 -> 3/30. Company (same counts), kappa 6:
    # (2 + 6 * 0.1) / 12. Contact a, kappa 2: (2 + 2 * 2.6/12) / 4.
    dist, evidence = hours.distribution("a@x.example", "x.example", (6.0, 2.0))
    assert dist[9] == pytest.approx((2 + 2 * 2.6 / 12) / 4)
    assert sum(dist) == pytest.approx(1.0)
    assert evidence == {"contact": 2, "company": 6, "account": 6, "contact_weight": 0.5}
    # A stranger gets the account's shape, with none of their own evidence.
    stranger, evidence = hours.distribution("new@else.example", "else.example", (6.0, 2.0))
    assert stranger[15] == pytest.approx(5 / 30) and evidence["contact"] == 0


def test_best_time_answer_names_the_peak():
    events = [Engagement("a@x.example", "x.example", "open", at_hour(9, d)) for d in range(5)]
    hours, days = best_time.clocks(events)
    answer = best_time.answer(hours, days, "a@x.example", "x.example")
    assert answer["hour_utc"] == 9
    assert answer["evidence"]["contact"] == 5
    assert answer["weekday"] in best_time.WEEKDAYS
