"""The webhooks' periodic tasks: send due deliveries, and purge old bodies and log lines."""

from __future__ import annotations

from server.common.mail import from_settings as mailer_from_settings
from server.extensions import db
from server.models.base import utcnow
from server.webhooks import delivery, personal_data


def deliver_webhooks(app):
    """A task attempting every due delivery."""

    def deliver_webhooks() -> dict:
        settings = app.config["LEADCAMP"]
        config = delivery.Config.from_settings(settings, mailer_from_settings(settings))
        with app.app_context():
            try:
                return dict(delivery.deliver_due(db.session, config, utcnow()))
            finally:
                db.session.remove()

    return deliver_webhooks


def purge_webhooks(app):
    """A task removing webhook bodies and log lines past their retention."""

    def purge_webhooks() -> dict:
        settings = app.config["LEADCAMP"]
        with app.app_context():
            try:
                counts = personal_data.purge(
                    db.session, utcnow(), settings.webhook_body_retention_days
                )
                db.session.commit()
                return counts
            finally:
                db.session.remove()

    return purge_webhooks
