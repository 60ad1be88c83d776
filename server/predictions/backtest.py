"""Rolling-window backtests: train on the past, score the following week, against naive
baselines — the account's base rate for reply and open likelihood, "the hour of the contact's
last reply" for best time. The latest result is stored with the models refitted on all resolved
history; the product shows a prediction only while its backtest beats its baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from server.predictions import best_time, features, history, logistic
from server.predictions.features import HORIZON, NAMES, TARGETS
from server.predictions.history import Engagement, Sent

WEEK = 7 * 86400
MIN_TRAIN = 50  # fewer resolved messages than this: the window is skipped, not scored


@dataclass(frozen=True)
class Window:
    """Train on messages resolved by `train_until`; score those sent from then to `test_until`."""

    train_until: float
    test_until: float


def windows(now: float, count: int, step: float = WEEK) -> list[Window]:
    """The last `count` test weeks whose every outcome is known by `now`, oldest first."""
    end = now - HORIZON
    return [Window(end - (k + 1) * step, end - k * step) for k in reversed(range(count))]


def kappas_at(rows: list[Sent], events: list[Engagement], at: float) -> dict:
    """Prior strengths estimated from what was known at `at` only."""
    hours, _ = best_time.clocks(events, until=at)
    return features.strengths(features.tallies_at(rows, at)) | {"hours": hours.strengths()}


def run_window(rows: list[Sent], events: list[Engagement], w: Window) -> dict | None:
    """One window's forecasts: per target (probabilities, labels, baseline), and best time."""
    rows = [r for r in rows if r.sent_at < w.test_until]
    train = [i for i, r in enumerate(rows) if features.resolved_by(r, w.train_until)]
    test = [i for i, r in enumerate(rows) if r.sent_at >= w.train_until]
    if len(train) < MIN_TRAIN or not test:
        return None
    kappas = kappas_at(rows, events, w.train_until)
    x = features.walk(rows, [e for e in events if e.at < w.test_until], kappas)
    y = [features.labels(r) for r in rows]
    out = {"train": len(train), "test": len(test), "kappas": kappas, "weights": {}}
    for target in TARGETS:
        ys = [y[i][target] for i in train]
        model = logistic.fit(NAMES, [x[i] for i in train], ys)
        out["weights"][target] = model.weights
        base = sum(ys) / len(ys)
        out[target] = (
            [model.predict(x[i]) for i in test],
            [y[i][target] for i in test],
            [base] * len(test),
        )
    out["best_time"] = best_time_forecasts(events, w, kappas["hours"])
    return out


def best_time_forecasts(events: list[Engagement], w: Window, kappa) -> tuple[list, list]:
    """For each reply in the test week: the probability the model and the baseline gave its hour."""
    hours, _ = best_time.clocks(events, until=w.train_until)
    before = [e for e in events if e.kind == "reply" and e.at < w.train_until]
    last: dict[str, int] = {}
    same = pairs = 0
    fallback = [1.0] * 24
    for e in before:
        h = best_time.hour_of(e.at)
        if e.contact in last:
            pairs += 1
            same += last[e.contact] == h
        last[e.contact] = h
        fallback[h] += 1
    fallback = [c / sum(fallback) for c in fallback]
    # The baseline's own confidence, fitted on the training weeks: how often a reply came at
    # the same hour as the contact's reply before it.
    q = min(max(same / pairs if pairs else 0.5, 1 / 24), 0.99)
    model_p, base_p = [], []
    for e in events:
        if e.kind != "reply" or not w.train_until <= e.at < w.test_until:
            continue
        h = best_time.hour_of(e.at)
        dist, _ = hours.distribution(e.contact, e.domain, kappa)
        model_p.append(dist[h])
        if e.contact in last:
            base_p.append(q if last[e.contact] == h else (1 - q) / 23)
        else:
            base_p.append(fallback[h])
    return model_p, base_p


def _binary_scores(probs: list, labels: list, base: list) -> dict:
    model_ll, base_ll = logistic.log_loss(probs, labels), logistic.log_loss(base, labels)
    return {
        "n": len(labels),
        "rate": sum(labels) / len(labels),
        "model": {
            "log_loss": model_ll,
            "brier": logistic.brier(probs, labels),
            "calibration": logistic.calibration(probs, labels),
        },
        "baseline": {
            "name": "the account's base rate",
            "log_loss": base_ll,
            "brier": logistic.brier(base, labels),
            "calibration": logistic.calibration(base, labels),
        },
        "beats_baseline": model_ll < base_ll,
    }


def _hour_scores(model_p: list, base_p: list) -> dict:
    if not model_p:
        return {"n": 0, "beats_baseline": False}
    model_ll = -sum(math.log(max(p, 1e-12)) for p in model_p) / len(model_p)
    base_ll = -sum(math.log(max(p, 1e-12)) for p in base_p) / len(base_p)
    return {
        "n": len(model_p),
        "model": {"log_loss": model_ll},
        "baseline": {"name": "same hour as the contact's last reply", "log_loss": base_ll},
        "beats_baseline": model_ll < base_ll,
    }


def backtest(rows: list[Sent], events: list[Engagement], now: float, weeks: int = 6) -> dict:
    """Every window's forecasts pooled and scored against the baselines, with per-window scores."""
    pooled: dict[str, list] = {t: [[], [], []] for t in TARGETS}
    hours: list[list] = [[], []]
    per_window = []
    for w in windows(now, weeks):
        got = run_window(rows, events, w)
        if got is None:
            continue
        entry = {
            "train_until": _iso(w.train_until),
            "test_until": _iso(w.test_until),
            "train": got["train"],
            "test": got["test"],
        }
        for target in TARGETS:
            probs, labels, base = got[target]
            for acc, part in zip(pooled[target], got[target], strict=True):
                acc.extend(part)
            entry[target] = {
                "model": logistic.log_loss(probs, labels),
                "baseline": logistic.log_loss(base, labels),
            }
        hours[0].extend(got["best_time"][0])
        hours[1].extend(got["best_time"][1])
        per_window.append(entry)
    result: dict = {"weeks": weeks, "windows": per_window}
    for target in TARGETS:
        probs, labels, base = pooled[target]
        result[target] = (
            _binary_scores(probs, labels, base) if labels else {"n": 0, "beats_baseline": False}
        )
    result["best_time"] = _hour_scores(*hours)
    return result


def final_models(rows: list[Sent], events: list[Engagement], now: float) -> dict | None:
    """The reply and open models fitted on every message resolved by `now`, with the prior
    strengths they were built with; None with too little history."""
    train = [i for i, r in enumerate(rows) if features.resolved_by(r, now)]
    if len(train) < MIN_TRAIN:
        return None
    kappas = kappas_at(rows, events, now)
    x = features.walk(rows, events, kappas)
    y = [features.labels(r) for r in rows]
    hours, days = best_time.clocks(events, until=now)
    snapshot = {
        "tallies": features.tallies_at(rows, now).account,
        "hours": hours.account,
        "weekdays": days.account,
        "weekday_kappas": days.strengths(),
    }
    models = {
        "kappas": kappas,
        "trained_on": len(train),
        "trained_at": _iso(now),
        "account": snapshot,
    }
    for target in TARGETS:
        fitted = logistic.fit(NAMES, [x[i] for i in train], [y[i][target] for i in train])
        models[target] = fitted.to_dict() | {"coefficients": fitted.coefficients()}
    return models


def run(session: Session, account_id: int, now: datetime, weeks: int = 6) -> tuple[dict, dict]:
    """Backtest the account's data as of `now`; (result, final models)."""
    rows = history.load(session, account_id, until=now)
    emails = {r.message_id: r.contact for r in rows}
    events = [e for e in history.engagements(session, account_id, emails) if e.at < now.timestamp()]
    ts = now.timestamp()
    result = backtest(rows, events, ts, weeks)
    result |= {"messages": len(rows), "engagements": len(events), "ran_at": _iso(ts)}
    return result, final_models(rows, events, ts) or {}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
