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
