"""Settings from the environment: secrets fail fast, the rest has working defaults."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config import ConfigError, Settings

SECRETS = {"SECRET_KEY": "s", "LINK_SIGNING_SECRETS": "new, old"}


@pytest.mark.parametrize("missing", ["SECRET_KEY", "LINK_SIGNING_SECRETS"])
def test_a_missing_secret_stops_the_app_and_names_it(missing):
    env = {k: v for k, v in SECRETS.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(env)
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(env | {missing: "  "})


def test_defaults_need_nothing_but_secrets(tmp_path):
    settings = Settings.from_env(SECRETS | {"INSTANCE_PATH": str(tmp_path), "PORT": "5055"})
    assert settings.link_secrets == ("new", "old")
    assert settings.database_url == f"sqlite:///{tmp_path / 'leadcamp.db'}"
    assert settings.public_url == "http://127.0.0.1:5055"
    assert settings.event_sink == "journal" and settings.trusted_proxies == ()
    assert settings.journal_dir == tmp_path / "journal"
    assert settings.job_runs_retention_days == 30
    assert settings.session_lifetime_hours == 12
    assert settings.flask_config()["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)
    shorter = Settings.from_env(SECRETS | {"SESSION_LIFETIME_HOURS": "1"})
    assert shorter.flask_config()["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=1)
    assert (
        Settings.from_env(SECRETS | {"JOB_RUNS_RETENTION_DAYS": "7"}).job_runs_retention_days == 7
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EVENT_SINK": "kafka"}, "EVENT_SINK"),
        ({"EVENT_SINK": "redis"}, "REDIS_URL"),
        ({"SINK_FLUSH_INTERVAL": "soon"}, "SINK_FLUSH_INTERVAL"),
        ({"SESSION_LIFETIME_HOURS": "a day"}, "SESSION_LIFETIME_HOURS"),
        ({"SESSION_LIFETIME_HOURS": "0"}, "SESSION_LIFETIME_HOURS"),
        ({"TRUSTED_PROXIES": "10.0.0.0/8,nonsense"}, "TRUSTED_PROXIES"),
        ({"TESTING": "maybe"}, "TESTING"),
        ({"JOB_RUNS_RETENTION_DAYS": "a month"}, "JOB_RUNS_RETENTION_DAYS"),
        ({"RATE_LIMIT_SIGN_IN": "lots"}, "RATE_LIMIT_SIGN_IN"),
        ({"RATE_LIMIT_BAD_TOKENS": "30 per fortnight"}, "RATE_LIMIT_BAD_TOKENS"),
    ],
)
def test_malformed_settings_are_named(env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(SECRETS | env)


def test_the_app_refuses_to_start_without_secrets(monkeypatch):
    from server import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("LINK_SIGNING_SECRETS", "x")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_rate_limits_count_in_memory_unless_redis_is_configured():
    settings = Settings.from_env(SECRETS)
    assert settings.rate_limit_sign_in == "10 per minute; 100 per hour"
    assert settings.flask_config()["RATELIMIT_STORAGE_URI"] == "memory://"
    scaled = Settings.from_env(
        SECRETS
        | {
            "REDIS_URL": "redis://cache:6379/0",
            "RATE_LIMIT_CONNECT": "5 per minute",
            "RATE_LIMIT_KEY_PREFIX": "shop-a",
        }
    )
    config = scaled.flask_config()
    assert scaled.rate_limit_connect == "5 per minute"
    assert config["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/0"
    assert config["RATELIMIT_STORAGE_OPTIONS"] == {"key_prefix": "shop-a"}
