"""The WEBHOOK_* settings: defaults, parsing, and refusals that name the setting."""

from __future__ import annotations

import ipaddress

import pytest

from config import ConfigError, Settings

BASE = {"SECRET_KEY": "s", "LINK_SIGNING_SECRETS": "l"}


def test_defaults():
    settings = Settings.from_env(BASE)
    assert settings.webhook_allow_private == ()
    assert (settings.webhook_timeout_seconds, settings.webhook_body_retention_days) == (10.0, 7)
    assert settings.webhook_disable_after_hours == 72


def test_values_are_read():
    env = BASE | {
        "WEBHOOK_ALLOW_PRIVATE": "10.0.0.0/8, fd00:1::/64",
        "WEBHOOK_TIMEOUT_SECONDS": "2.5",
        "WEBHOOK_BODY_RETENTION_DAYS": "14",
        "WEBHOOK_DISABLE_AFTER_HOURS": "120",
    }
    settings = Settings.from_env(env)
    assert settings.webhook_allow_private == (
        ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00:1::/64"),
    )  # fmt: skip
    assert settings.webhook_timeout_seconds == 2.5
    assert (settings.webhook_body_retention_days, settings.webhook_disable_after_hours) == (14, 120)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WEBHOOK_ALLOW_PRIVATE", "intranet"),
        ("WEBHOOK_TIMEOUT_SECONDS", "0"),
        ("WEBHOOK_TIMEOUT_SECONDS", "600"),
        ("WEBHOOK_BODY_RETENTION_DAYS", "2"),
        ("WEBHOOK_DISABLE_AFTER_HOURS", "0"),
    ],
)
def test_bad_values_stop_the_start(name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env(BASE | {name: value})
