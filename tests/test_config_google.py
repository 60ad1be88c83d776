"""Google settings: optional, but a configured client needs its secret and a token key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from config import ConfigError, Settings

SECRETS = {"SECRET_KEY": "s", "LINK_SIGNING_SECRETS": "new, old"}
GOOGLE = {"GOOGLE_CLIENT_ID": "id.apps.googleusercontent.com", "GOOGLE_CLIENT_SECRET": "GOCSPX-x"}


def test_google_is_optional():
    settings = Settings.from_env(SECRETS)
    assert settings.google_configured is False and settings.token_encryption_keys == ()
    assert settings.gmail_sync_minutes == 2 and settings.gmail_read_bodies is False


def test_a_google_client_needs_its_secret_and_a_token_key():
    with pytest.raises(ConfigError, match="GOOGLE_CLIENT_SECRET"):
        Settings.from_env(SECRETS | {"GOOGLE_CLIENT_ID": "id"})
    with pytest.raises(ConfigError, match="TOKEN_ENCRYPTION_KEYS"):
        Settings.from_env(SECRETS | GOOGLE)
    keys = f"{Fernet.generate_key().decode()}, {Fernet.generate_key().decode()}"
    settings = Settings.from_env(SECRETS | GOOGLE | {"TOKEN_ENCRYPTION_KEYS": keys})
    assert settings.google_configured and len(settings.token_encryption_keys) == 2


def test_a_malformed_token_key_is_named():
    with pytest.raises(ConfigError, match="TOKEN_ENCRYPTION_KEYS"):
        Settings.from_env(SECRETS | GOOGLE | {"TOKEN_ENCRYPTION_KEYS": "not-a-key"})


def test_the_gmail_api_root_can_be_pointed_elsewhere():
    assert Settings.from_env(SECRETS).gmail_api_url == ""
    moved = Settings.from_env(SECRETS | {"GMAIL_API_URL": "http://gmail-proxy.internal:8080/"})
    assert moved.gmail_api_url == "http://gmail-proxy.internal:8080"
    with pytest.raises(ConfigError, match="GMAIL_API_URL"):
        Settings.from_env(SECRETS | {"GMAIL_API_URL": "gmail-proxy.internal"})


def test_the_dev_env_file_gets_a_token_key(tmp_path, monkeypatch):
    import config.devenv

    monkeypatch.setattr(config.devenv, "ROOT", tmp_path)
    config.devenv.main()
    values = dict(
        line.split("=", 1) for line in (tmp_path / ".env").read_text().splitlines() if "=" in line
    )
    Fernet(values["TOKEN_ENCRYPTION_KEYS"].encode())  # a valid key


PUSH = {
    "GMAIL_PUSH_TOPIC": "projects/leadcamp-prod/topics/gmail",
    "GMAIL_PUSH_AUDIENCE": "https://leadcamp.example.com/gmail/push",
    "GMAIL_PUSH_SERVICE_ACCOUNT": "Gmail-Push@leadcamp-prod.iam.gserviceaccount.com",
}


def _google_env() -> dict:
    return SECRETS | GOOGLE | {"TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode()}


def test_gmail_push_is_off_by_default():
    settings = Settings.from_env(_google_env())
    assert settings.gmail_push is False and settings.gmail_push_topic == ""
    assert settings.gmail_push_fallback_minutes == 60


def test_gmail_push_takes_a_topic_its_audience_and_service_account():
    settings = Settings.from_env(_google_env() | PUSH | {"GMAIL_PUSH_FALLBACK_MINUTES": "90"})
    assert settings.gmail_push and settings.gmail_push_topic == PUSH["GMAIL_PUSH_TOPIC"]
    assert settings.gmail_push_audience == PUSH["GMAIL_PUSH_AUDIENCE"]
    assert settings.gmail_push_service_account == PUSH["GMAIL_PUSH_SERVICE_ACCOUNT"].lower()
    assert settings.gmail_push_fallback_minutes == 90


@pytest.mark.parametrize("missing", ["GMAIL_PUSH_AUDIENCE", "GMAIL_PUSH_SERVICE_ACCOUNT"])
def test_a_push_topic_needs_its_audience_and_service_account(missing):
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(_google_env() | PUSH | {missing: ""})


def test_a_push_topic_needs_google():
    with pytest.raises(ConfigError, match="GMAIL_PUSH_TOPIC needs Google"):
        Settings.from_env(SECRETS | PUSH)


@pytest.mark.parametrize(
    "topic", ["gmail", "projects/leadcamp-prod/gmail", "projects//topics/gmail", "topics/gmail"]
)
def test_a_push_topic_is_a_full_pubsub_name(topic):
    with pytest.raises(ConfigError, match="projects/<project>/topics/<topic>"):
        Settings.from_env(_google_env() | PUSH | {"GMAIL_PUSH_TOPIC": topic})


def test_push_settings_without_a_topic_are_refused():
    with pytest.raises(ConfigError, match="GMAIL_PUSH_AUDIENCE is set but GMAIL_PUSH_TOPIC"):
        Settings.from_env(_google_env() | {"GMAIL_PUSH_AUDIENCE": PUSH["GMAIL_PUSH_AUDIENCE"]})


@pytest.mark.parametrize("value", ["0", "-5", "hourly"])
def test_the_push_fallback_is_a_positive_number_of_minutes(value):
    with pytest.raises(ConfigError, match="GMAIL_PUSH_FALLBACK_MINUTES"):
        Settings.from_env(_google_env() | PUSH | {"GMAIL_PUSH_FALLBACK_MINUTES": value})


def test_a_push_service_account_is_an_address():
    with pytest.raises(ConfigError, match="GMAIL_PUSH_SERVICE_ACCOUNT"):
        Settings.from_env(_google_env() | PUSH | {"GMAIL_PUSH_SERVICE_ACCOUNT": "gmail-push"})
