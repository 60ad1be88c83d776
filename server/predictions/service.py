"""What the product shows: a message's reply and open likelihood, a contact's best time, and
threads at risk; each likelihood only while the latest backtest says it beats its baseline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.common.addresses import company_domain
from server.contacts.service import find_contact
from server.messages.service import visible_messages
from server.models import Backtest, Message, MessageSummary, User
from server.models.base import iso
from server.predictions import best_time, features, history
from server.predictions.features import TARGETS
from server.predictions.logistic import Logistic

MODEL_NAME = "L2-penalised logistic regression on point-in-time features (docs/predictions.md)"
AT_RISK_DAYS = 3
AT_RISK_LOOKBACK_DAYS = 30
HIDDEN = "hidden: its latest backtest did not beat the baseline ({})"


def store(session: Session, account_id: int, result: dict, model: dict) -> Backtest:
    """Keep `result` as the account's latest backtest (replacing the one before)."""
    row = session.scalar(select(Backtest).where(Backtest.account_id == account_id))
    if row is None:
        row = Backtest(account_id=account_id)
        session.add(row)
    row.result, row.model, row.ran_at = result, model, datetime.now(UTC)
    return row


def latest(session: Session, account_id: int) -> Backtest | None:
    """The account's latest backtest, if one ran."""
    return session.scalar(select(Backtest).where(Backtest.account_id == account_id))


def beats(backtest: Backtest | None, kind: str) -> bool:
    """Whether the prediction `kind` (reply, open, best_time) may be shown: its latest backtest
    beat its baseline on log loss (and, for the likelihoods, a model was fitted)."""
    if backtest is None or not backtest.result.get(kind, {}).get("beats_baseline"):
        return False
    return kind == "best_time" or kind in backtest.model


def _reason(backtest: Backtest | None, kind: str) -> str:
    if backtest is None:
        return "hidden: no backtest has run for this account (flask insights backtest)"
    return HIDDEN.format(backtest.result.get(kind, {}).get("baseline", {}).get("name", "none"))


def message_prediction(session: Session, user: User, mid: str, now: datetime) -> dict | None:
    """The likelihoods of one message the user may see; None when there is no such message."""
    message = session.scalar(visible_messages(user).where(Message.id == mid))
    if message is None:
        return None
    backtest = latest(session, user.account_id)
    summary = session.get(MessageSummary, mid)
    out = {
        "message_id": mid,
        "model": _model_view(backtest),
        "at_risk": is_at_risk(summary, now, AT_RISK_DAYS),
    }
    shown = [t for t in TARGETS if beats(backtest, t)]
    # The features read the rep's history: only worth it when a prediction may be shown.
    vector = _vector(session, message, backtest) if shown else None
    for target in TARGETS:
        out[target] = {"shown": False, "probability": None, "baseline": None}
        if target not in shown:
            out[target]["reason"] = _reason(backtest, target)
        elif vector is None:
            out[target]["reason"] = "hidden: the message has no send time or recipient"
        else:
            model = Logistic.from_dict(backtest.model[target])
            out[target] |= {
                "shown": True,
                "probability": round(model.predict(vector), 4),
                "baseline": round(backtest.result[target]["rate"], 4),
                "reason": "",
            }
    return out


def _vector(session: Session, message: Message, backtest: Backtest | None) -> list | None:
    if backtest is None or not backtest.model or message.sent_at is None or not message.recipients:
        return None
    email = message.recipients[0].email
    among = history.near(message.account_id, message.user_id, email)
    rows = history.load(session, message.account_id, until=message.sent_at, among=among)
    emails = {r.message_id: r.contact for r in rows}
    events = history.engagements(session, message.account_id, emails, among)
    row = history.Sent(
        message.id,
        message.user_id,
        email,
        company_domain(email),
        message.sent_at.timestamp(),
        None,
        None,
    )
    kappas = backtest.model["kappas"]
    kappas = kappas | {"hours": tuple(kappas["hours"])}
    return features.at(rows, events, row, kappas, backtest.model.get("account"))


def _model_view(backtest: Backtest | None) -> dict:
    if backtest is None:
        return {"name": MODEL_NAME, "backtest_ran_at": None, "trained_on": 0}
    return {
        "name": MODEL_NAME,
        "backtest_ran_at": iso(backtest.ran_at),
        "trained_on": backtest.model.get("trained_on", 0),
    }


def contact_best_time(session: Session, user: User, email: str) -> dict | None:
    """The best UTC hour and weekday to reach a contact of the account; None when unknown."""
    contact = find_contact(session, user.account_id, email)
    if contact is None:
        return None
    backtest = latest(session, user.account_id)
    out = {
        "email": contact.email,
        "shown": beats(backtest, "best_time"),
        "best_time": None,
        "reason": "",
    }
    if not out["shown"]:
        out["reason"] = _reason(backtest, "best_time")
        return out
    out["best_time"] = _best_time(session, user, contact.email, backtest.model)
    return out


def _best_time(session: Session, user: User, email: str, model: dict) -> dict:
    """Read in a request: only the contact's company's engagements (the account's own spread
    and prior strengths come from the backtest's snapshot, when it has one)."""
    among = history.near(user.account_id, -1, email)  # no rep's mail: the company's only
    emails = history.recipients(session, user.account_id, among)
    hours, days = best_time.clocks(history.engagements(session, user.account_id, emails, among))
    snapshot = model.get("account")
    if not snapshot:
        return best_time.answer(hours, days, email, company_domain(email))
    hours.account, days.account = list(snapshot["hours"]), list(snapshot["weekdays"])
    strengths = (tuple(model["kappas"]["hours"]), tuple(snapshot["weekday_kappas"]))
    return best_time.answer(hours, days, email, company_domain(email), strengths)


def is_at_risk(summary: MessageSummary | None, now: datetime, days: int) -> bool:
    """Really opened, at least `days` days ago, yet neither replied to nor bounced."""
    if summary is None or not summary.opens or summary.replies or summary.bounces:
        return False
    first = summary.first_open_at
    return first is not None and now - timedelta(AT_RISK_LOOKBACK_DAYS) <= first <= now - timedelta(
        days
    )


def at_risk(
    session: Session, user: User, now: datetime, days: int = AT_RISK_DAYS, limit: int = 100
) -> list[dict]:
    """The user's visible threads opened `days`+ days ago (within the lookback) with no reply in
    the thread since, oldest open first."""
    query = (
        visible_messages(user)
        .join(MessageSummary, MessageSummary.message_id == Message.id)
        .add_columns(MessageSummary)
        .where(MessageSummary.opens > 0, MessageSummary.replies == 0, MessageSummary.bounces == 0)
        .where(MessageSummary.first_open_at <= now - timedelta(days))
        .where(MessageSummary.first_open_at >= now - timedelta(AT_RISK_LOOKBACK_DAYS))
        .order_by(MessageSummary.first_open_at)
    )
    replied = _replied_threads(session, user)
    out = []
    for message, summary in session.execute(query):
        if message.gmail_thread_id and message.gmail_thread_id in replied:
            continue  # answered on another message of the thread
        out.append(
            {
                "id": message.id,
                "subject": message.subject,
                "sent_at": iso(message.sent_at),
                "first_open_at": iso(summary.first_open_at),
                "opens": summary.opens,
                "recipients": [r.email for r in message.recipients],
                "gmail_thread_id": message.gmail_thread_id,
            }
        )
        if len(out) >= limit:
            break
    return out


def _replied_threads(session: Session, user: User) -> set[str]:
    query = (
        visible_messages(user)
        .with_only_columns(Message.gmail_thread_id)
        .join(MessageSummary, MessageSummary.message_id == Message.id)
        .where(MessageSummary.replies > 0, Message.gmail_thread_id.is_not(None))
    )
    return set(session.scalars(query))
