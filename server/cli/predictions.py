"""`flask --app wsgi insights backtest`: score the predictions on the account's own history."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from server.cli.common import find_account
from server.extensions import db
from server.predictions import backtest as backtests
from server.predictions import service

insights = click.Group("insights", help="Insights and predictions.")


@insights.command("backtest")
@click.argument("account")
@click.option("--weeks", default=6, show_default=True, help="Rolling test weeks.")
def backtest(account: str, weeks: int):
    """Train on the past, score each following week, print the scores against the baselines,
    and store the result (the product shows a prediction only while it beats its baseline)."""
    found = find_account(account)
    result, model = backtests.run(db.session, found.id, datetime.now(UTC), weeks)
    service.store(db.session, found.id, result, model)
    db.session.commit()
    click.echo(report(result))


def report(result: dict) -> str:
    """The backtest as plain text: per prediction, model against baseline."""
    lines = [
        f"{result['messages']} messages, {result['engagements']} real engagements, "
        f"{len(result['windows'])} weekly windows"
    ]
    for kind in ("reply", "open"):
        r = result[kind]
        if not r.get("n"):
            lines.append(f"{kind}: not enough history to score")
            continue
        m, b = r["model"], r["baseline"]
        lines.append(
            f"{kind} within 7 days: n={r['n']} rate={r['rate']:.3f} | model log loss "
            f"{m['log_loss']:.4f} Brier {m['brier']:.4f} | base rate log loss "
            f"{b['log_loss']:.4f} Brier {b['brier']:.4f} | "
            + ("beats the baseline" if r["beats_baseline"] else "does NOT beat the baseline")
        )
        lines.extend(
            f"  calibration {c['low']:.1f}-{c['high']:.1f}: n={c['n']} predicted "
            f"{c['predicted']:.3f} observed {c['observed']:.3f}"
            for c in m["calibration"]
        )
    t = result["best_time"]
    if t.get("n"):
        lines.append(
            f"best hour (replies): n={t['n']} | model log loss {t['model']['log_loss']:.4f} | "
            f"same-hour-as-last-reply log loss {t['baseline']['log_loss']:.4f} | "
            + ("beats the baseline" if t["beats_baseline"] else "does NOT beat the baseline")
        )
    else:
        lines.append("best hour: no replies to score")
    return "\n".join(lines)
