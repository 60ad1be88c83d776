"""Gmail jobs: a periodic sweep queues one sync per connected mailbox (a mailbox Gmail pushes
changes of, less often); an hourly job renews those pushes (users.watch); another mails the reps
whose sync stopped (health.py); send runs go out through the outbox."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime

from huey import Huey, crontab
from sqlalchemy import select

from server.accounts import settings as account_settings
from server.common import mail
from server.extensions import db
from server.gmail import auth as gmail_auth
from server.gmail import client as gmail_client
from server.gmail import health as gmail_health
from server.gmail import outbox
from server.gmail import push as gmail_push
from server.gmail import sync as gmail_sync
from server.messages import service as messages
from server.models import GmailMailbox, JobRun, User

log = logging.getLogger(__name__)

RETRIES = 4
BASE_DELAY = 30  # seconds; doubled on each retry
# A sync holding its mailbox's lock longer than this is taken for dead (a killed worker never
# releases it) and the lock is taken over; a real sync takes seconds to a few minutes.
LOCK_TTL = 30 * 60


@contextmanager
def mailbox_lock(huey: Huey, mailbox_id: int, clock=time.time) -> Iterator[bool]:
    """Hold the one-sync-at-a-time lock of a mailbox; yields False while another sync holds it.

    The lock is a key in the job store holding when it was taken, so it expires on every
    storage (huey's own task locks expire on none but Redis 7.4+, and would hold forever).
    """
    key = f"gmail-sync-lock-{mailbox_id}"
    acquired = _acquire(huey, key, clock())
    try:
        yield acquired
    finally:
        if acquired:
            huey.delete(key)


def _acquire(huey: Huey, key: str, now: float) -> bool:
    if huey.put_if_empty(key, now):
        return True
    taken = huey.get(key, peek=True)
    if taken is not None and now - taken < LOCK_TTL:
        return False
    # Stale. Two takers racing here could both win; a doubled sync could then record a
    # new reply twice (engagement.unrecorded only drops what is already stored); rare, logged.
    log.warning("gmail sync lock %s taken over: held since %s", key, taken)
    huey.delete(key)
    return huey.put_if_empty(key, now)


def sync_now(app, mailbox_id: int, sleep=time.sleep) -> dict | None:
    """Sync one mailbox in the foreground; None when Google is off or the mailbox is not syncing."""
    from server.tracking.writer import event_writer

    with app.app_context():
        settings = app.config["LEADCAMP"]
        google = gmail_auth.GoogleClient.from_settings(settings)
        mailbox = db.session.get(GmailMailbox, mailbox_id)
        # Checked here, when the sync runs: the mailbox may have been paused since it was queued,
        # and the sync command runs every mailbox, paused or not.
        if google is None or mailbox is None or mailbox.status != "ok":
            return None
        base_url = account_settings.tracking_base_url(mailbox.user.account, settings.public_url)
        try:
            result = gmail_sync.sync_mailbox(
                db.session,
                mailbox,
                gmail_client.for_mailbox(google, mailbox, sleep),
                event_writer(app, settings),
                datetime.now(UTC),
                messages.Tracker(base_url, settings.link_secrets),
            )
        except gmail_auth.ReconnectNeeded:
            db.session.commit()  # the mailbox is marked; its sync pauses until reconnected
            log.warning("gmail sync of %s paused: reconnect needed", mailbox.email)
            return {"mode": "reconnect_needed"}
        except Exception:
            db.session.rollback()
            raise
        finally:
            db.session.remove()
        return asdict(result)


def syncing_mailboxes(app) -> list[int]:
    """Ids of the mailboxes whose sync is running (not paused for a reconnect)."""
    with app.app_context():
        ids = db.session.scalars(select(GmailMailbox.id).where(GmailMailbox.status == "ok")).all()
        db.session.remove()
        return list(ids)


def watched_mailboxes(app, now: datetime) -> set[int]:
    """Ids of the mailboxes Gmail pushes changes of (push on and their watch running)."""
    if not app.config["LEADCAMP"].gmail_push:
        return set()
    with app.app_context():
        try:
            return gmail_push.watched(db.session, now)
        finally:
            db.session.remove()


def renew_watches(app, now: datetime | None = None) -> int:
    """Renew the watches running out within a day (or missing); how many Google granted."""
    settings = app.config["LEADCAMP"]
    with app.app_context():
        google = gmail_auth.GoogleClient.from_settings(settings)
        if google is None or not settings.gmail_push:
            return 0
        try:
            due = gmail_push.due(db.session, now or datetime.now(UTC))
            renewed = gmail_push.renew(db.session, google, due, settings.gmail_push_topic)
        finally:
            db.session.remove()
        return sum(not r.error for r in renewed)


# A tick runs some seconds after its minute, early or late: half a tick of slack keeps a mailbox
# on its interval instead of slipping a minute whenever one tick runs later than the last.
TICK_SLACK = 30


def _queued_key(mailbox_id: int) -> str:
    return f"gmail-sync-queued-{mailbox_id}"


def is_due(huey: Huey, mailbox_id: int, now: float, minutes: int) -> bool:
    """Whether a mailbox's sync interval has passed since the sweep last queued it."""
    queued = huey.get(_queued_key(mailbox_id), peek=True)
    return queued is None or now - queued >= minutes * 60 - TICK_SLACK


def register(huey: Huey, app) -> dict:
    """The per-mailbox sync task, the periodic sweep that queues it, the watches' renewal."""
    settings = app.config["LEADCAMP"]
    minutes = max(1, settings.gmail_sync_minutes)
    # A watched mailbox is synced on each notice; the sweep only covers a lost one. The health
    # check's idea of "stalled" reads the same interval (health.Sweep).
    fallback = gmail_health.Sweep.of(settings).pushed_minutes

    @huey.task(retries=RETRIES, retry_delay=BASE_DELAY, context=True, name="gmail_sync_mailbox")
    def gmail_sync_mailbox(mailbox_id: int, task=None):
        """Sync one mailbox; retried with exponential backoff on failure."""
        if task is not None:  # exponential backoff between retries: 30 s, 60 s, 120 s, 240 s
            task.retry_delay = BASE_DELAY * 2 ** (RETRIES - task.retries)
        # One sync per mailbox at a time. A sync arriving meanwhile returns at once: the running
        # one, or the next sweep, covers its changes (a raised TaskLockedException would be
        # retried with backoff and pile up behind a long sync).
        with mailbox_lock(huey, mailbox_id) as acquired:
            if not acquired:
                log.info("gmail sync of mailbox %s skipped: another sync is running", mailbox_id)
                return
            sync_now(app, mailbox_id)
        # Nothing returned: nobody reads these results, and stored ones would pile up in the
        # job store every few minutes per mailbox (sync_now logs what it did).

    # Every minute, not crontab(minute=f"*/{minutes}"): a cron step that does not divide 60
    # restarts at each hour (*/7 runs at :56 and again at :00). Each mailbox is queued once its
    # interval has passed since it was last queued, so any interval runs evenly.
    @huey.periodic_task(crontab(minute="*"), name="gmail_sync_all")
    def gmail_sync_all() -> int:
        """Queue a sync of every mailbox that is not paused and is due; returns how many."""
        now = time.time()
        watched = watched_mailboxes(app, datetime.fromtimestamp(now, UTC))
        due = [
            i
            for i in syncing_mailboxes(app)
            if is_due(huey, i, now, fallback if i in watched else minutes)
        ]
        for mailbox_id in due:
            huey.put(_queued_key(mailbox_id), now)
            gmail_sync_mailbox(mailbox_id)
        return len(due)

    @huey.periodic_task(crontab(minute="*/5"), name="gmail_health_notices")
    def gmail_health_notices() -> int:
        """Mail the reps whose Gmail sync stopped (once per outage); returns how many."""
        return notify_outages(app, datetime.now(UTC))

    # Hourly: a watch has a day of margin when it is renewed, so a missed hour costs nothing.
    @huey.periodic_task(crontab(minute="41"), name="gmail_renew_watches")
    def gmail_renew_watches() -> int:
        """Renew the Gmail watches running out (push on); returns how many were renewed."""
        return renew_watches(app)

    return {
        "gmail_sync_mailbox": gmail_sync_mailbox,
        "gmail_sync_all": gmail_sync_all,
        "gmail_health_notices": gmail_health_notices,
        "gmail_renew_watches": gmail_renew_watches,
    }


def notify_outages(app, now: datetime) -> int:
    """Tell the reps whose mailbox stopped syncing, once per outage (see health.py)."""
    settings = app.config["LEADCAMP"]
    mailer = mail.from_settings(settings)
    # Without Google nothing syncs, and without SMTP nothing can be told: the pages say so.
    if not settings.google_configured or not mailer.configured:
        return 0
    with app.app_context():
        try:
            sent = gmail_health.notify_outages(
                db.session, mailer, now, gmail_health.Sweep.of(settings), settings.public_url
            )
            db.session.commit()
        finally:
            db.session.remove()
    return sent


def run_tasks(app) -> dict:
    """The work behind this package's run kinds (registered as never-retried tasks)."""

    def gmail_send(session, run: JobRun) -> None:
        settings = app.config["LEADCAMP"]
        user = session.get(User, run.user_id)
        base_url = account_settings.tracking_base_url(user.account, settings.public_url)
        outbox.deliver(
            session,
            run,
            gmail_auth.GoogleClient.from_settings(settings),
            messages.Tracker(base_url, settings.link_secrets),
            datetime.now(UTC),
        )

    return {outbox.KIND: gmail_send}
