"""Settings read from the environment.

Secrets have no default: a missing one stops the app at start with a message that names it, rather
than running with a guessable key. Everything else has a default that works on one machine with
SQLite and no Redis.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from limits import parse_many

ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def _required(env: dict[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(
            f"{name} is not set. It is a secret and has no default: "
            f"set it in the environment (see config/.env.example)."
        )
    return value


def env_number(env: dict[str, str], name: str, default: float, kind=float):
    """The number in `env[name]` (`default` when unset); a ConfigError names a bad value."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def env_flag(env: dict[str, str], name: str, default: bool) -> bool:
    """The boolean in `env[name]` (`default` when unset); a ConfigError names a bad value."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _positive(env: dict[str, str], name: str, default: int) -> int:
    """A whole number of at least 1 in `env[name]`; a ConfigError names a bad value."""
    value = env_number(env, name, default, int)
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, got {value}")
    return value


def _networks(env: dict[str, str], name: str) -> tuple:
    items = [item.strip() for item in env.get(name, "").split(",") if item.strip()]
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in items)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a comma-separated list of addresses or CIDRs") from exc


@dataclass(frozen=True)
class Settings:
    """Every setting the server reads; built once by `from_env`."""

    secret_key: str
    link_secrets: tuple[str, ...]
    database_url: str
    public_url: str
    instance_path: Path
    event_sink: str = "journal"
    redis_url: str = ""
    redis_stream: str = "leadcamp:events"
    spool_dir: Path = field(default_factory=lambda: ROOT / "instance" / "spool")
    journal_dir: Path = field(default_factory=lambda: ROOT / "instance" / "journal")
    sink_flush_interval: float = 0.25
    sink_batch_size: int = 2000
    geoip_database: str = ""
    asn_database: str = ""
    network_data: str = ""
    trusted_proxies: tuple = ()
    ip_hash_rotation_hours: int = 24
    scanner_window_seconds: float = 10.0
    burst_window_seconds: float = 3.0
    self_view_window_seconds: float = 30.0
    jobs_storage: str = ""
    job_runs_retention_days: int = 30
    # How long a sign-in lasts, whatever the browser does meanwhile (docs/deployment.md).
    session_lifetime_hours: int = 12
    testing: bool = False
    # Outgoing mail (invitations, notices to admins); without SMTP_HOST links are shown instead.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    smtp_allow_plaintext: bool = False
    # The hosting provider seeded into each account's sub-processor list.
    hosting_provider: str = ""
    hosting_country: str = ""
    # Secrets keying the audit log's hash chain: the first signs new entries, all verify; empty:
    # SECRET_KEY (docs/privacy.md, "Audit trail").
    audit_chain_keys: tuple[str, ...] = ()
    # A server-wide address that also receives breach notices (the operator's privacy contact).
    privacy_notice_email: str = ""
    # The SMTP relay, listed as a sub-processor when SMTP_HOST is set.
    smtp_provider: str = ""
    smtp_country: str = ""
    # The erasure ledger's HMAC key (docs/backup.md); without it, one derived from SECRET_KEY.
    erasure_ledger_key: str = ""
    # Days between announcing a sub-processor change and its taking effect (unless urgent).
    subprocessor_notice_days: int = 30
    # Retention per kind of data, in days (docs/privacy.md); 0 keeps that kind forever.
    retention_messages_days: int = 730
    retention_contacts_days: int = 1095
    retention_enrichment_days: int = 365
    retention_breaches_days: int = 1825
    retention_data_requests_days: int = 1095
    # Webhooks (docs/webhooks.md): private ranges every endpoint may reach (none by default),
    # the time one attempt may take, how long bodies are kept, and the failing time that
    # disables an endpoint.
    webhook_allow_private: tuple = ()
    webhook_timeout_seconds: float = 10.0
    webhook_body_retention_days: int = 7
    webhook_disable_after_hours: int = 72
    enrichment_api_key: str = ""
    enrichment_ttl_days: int = 30
    enrichment_rate_per_minute: int = 60
    google_client_id: str = ""
    google_client_secret: str = ""
    token_encryption_keys: tuple[str, ...] = ()
    gmail_sync_minutes: int = 2
    gmail_read_bodies: bool = False
    gmail_api_url: str = ""
    # Gmail push (users.watch through Pub/Sub), off unless GMAIL_PUSH_TOPIC is set; a watched
    # mailbox is still swept every gmail_push_fallback_minutes, in case a notice is lost.
    gmail_push_topic: str = ""
    gmail_push_audience: str = ""
    gmail_push_service_account: str = ""
    gmail_push_fallback_minutes: int = 60
    # Per client address (limits' notation, e.g. "10 per minute; 100 per hour").
    rate_limit_sign_in: str = "10 per minute; 100 per hour"
    rate_limit_connect: str = "10 per minute; 100 per hour"
    rate_limit_bad_tokens: str = "30 per minute; 300 per hour"
    rate_limit_key_prefix: str = "leadcamp-limits"

    @property
    def audit_chain_secrets(self) -> tuple[str, ...]:
        """The secrets of the audit chain: AUDIT_CHAIN_KEYS, else SECRET_KEY alone."""
        return self.audit_chain_keys or (self.secret_key,)

    @property
    def google_configured(self) -> bool:
        """Whether Google sign-in and Gmail are set up (client id and secret given)."""
        return bool(self.google_client_id and self.google_client_secret)

    @property
    def gmail_push(self) -> bool:
        """Whether Gmail push is on (GMAIL_PUSH_TOPIC set; from_env checked the rest)."""
        return bool(self.gmail_push_topic)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Read settings from `env` (default: os.environ); raise ConfigError when one is wrong."""
        env = dict(os.environ if env is None else env)
        instance = Path(env.get("INSTANCE_PATH") or ROOT / "instance")
        secrets = tuple(s.strip() for s in _required(env, "LINK_SIGNING_SECRETS").split(","))
        sink = env.get("EVENT_SINK", "").strip() or "journal"
        redis_url = env.get("REDIS_URL", "").strip()
        port = env.get("PORT", "").strip() or "5000"
        if sink not in {"journal", "embedded", "redis"}:
            raise ConfigError(f"EVENT_SINK must be journal, embedded or redis, got {sink!r}")
        if sink == "redis" and not redis_url:
            raise ConfigError("EVENT_SINK=redis needs REDIS_URL")
        return cls(
            secret_key=_required(env, "SECRET_KEY"),
            link_secrets=tuple(s for s in secrets if s),
            database_url=env.get("DATABASE_URL") or f"sqlite:///{instance / 'leadcamp.db'}",
            public_url=(env.get("PUBLIC_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
            instance_path=instance,
            event_sink=sink,
            redis_url=redis_url,
            redis_stream=env.get("REDIS_STREAM") or "leadcamp:events",
            spool_dir=Path(env.get("SPOOL_DIR") or instance / "spool"),
            journal_dir=Path(env.get("JOURNAL_DIR") or instance / "journal"),
            sink_flush_interval=env_number(env, "SINK_FLUSH_INTERVAL", 0.25),
            sink_batch_size=env_number(env, "SINK_BATCH_SIZE", 2000, int),
            geoip_database=env.get("GEOIP_DATABASE", "").strip(),
            asn_database=env.get("ASN_DATABASE", "").strip(),
            network_data=env.get("NETWORK_DATA", "").strip(),
            trusted_proxies=_networks(env, "TRUSTED_PROXIES"),
            ip_hash_rotation_hours=env_number(env, "IP_HASH_ROTATION_HOURS", 24, int),
            scanner_window_seconds=env_number(env, "SCANNER_WINDOW_SECONDS", 10.0),
            burst_window_seconds=env_number(env, "BURST_WINDOW_SECONDS", 3.0),
            self_view_window_seconds=env_number(env, "SELF_VIEW_WINDOW_SECONDS", 30.0),
            jobs_storage=env.get("JOBS_STORAGE", "").strip() or redis_url,
            job_runs_retention_days=env_number(env, "JOB_RUNS_RETENTION_DAYS", 30, int),
            session_lifetime_hours=_positive(env, "SESSION_LIFETIME_HOURS", 12),
            testing=env_flag(env, "TESTING", False),
            smtp_host=env.get("SMTP_HOST", "").strip(),
            smtp_port=env_number(env, "SMTP_PORT", 587, int),
            smtp_user=env.get("SMTP_USER", "").strip(),
            smtp_password=env.get("SMTP_PASSWORD", ""),
            smtp_from=env.get("SMTP_FROM", "").strip(),
            smtp_allow_plaintext=env_flag(env, "SMTP_ALLOW_PLAINTEXT", False),
            hosting_provider=env.get("HOSTING_PROVIDER", "").strip(),
            hosting_country=env.get("HOSTING_COUNTRY", "").strip(),
            audit_chain_keys=tuple(
                k.strip() for k in env.get("AUDIT_CHAIN_KEYS", "").split(",") if k.strip()
            ),
            privacy_notice_email=env.get("PRIVACY_NOTICE_EMAIL", "").strip(),
            smtp_provider=env.get("SMTP_PROVIDER", "").strip(),
            smtp_country=env.get("SMTP_COUNTRY", "").strip(),
            erasure_ledger_key=env.get("ERASURE_LEDGER_KEY", "").strip(),
            subprocessor_notice_days=env_number(env, "SUBPROCESSOR_NOTICE_DAYS", 30, int),
            **_retention(env),
            **_webhooks(env),
            enrichment_api_key=env.get("ENRICHMENT_API_KEY", "").strip(),
            enrichment_ttl_days=env_number(env, "ENRICHMENT_TTL_DAYS", 30, int),
            enrichment_rate_per_minute=env_number(env, "ENRICHMENT_RATE_PER_MINUTE", 60, int),
            **_google(env),
            **_rate_limits(env),
        )

    def flask_config(self) -> dict:
        """The subset Flask and its extensions read, in their own key names."""
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": self.database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(self.database_url),
            "MAX_CONTENT_LENGTH": 1024 * 1024,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.public_url.startswith("https://"),
            # Flask also refuses a cookie signed longer ago than this; sign-in time is checked
            # separately (server/accounts/sessions.py), since Flask re-signs a changed session.
            "PERMANENT_SESSION_LIFETIME": timedelta(hours=self.session_lifetime_hours),
            "TESTING": self.testing,
            "LEADCAMP": self,
            **self.limiter_config(),
        }

    def limiter_config(self) -> dict:
        """Flask-Limiter's keys: counts in memory, or in Redis (shared by every worker and
        machine) when REDIS_URL is set."""
        storage = {"RATELIMIT_STORAGE_URI": "memory://"}
        if self.redis_url:
            storage = {
                "RATELIMIT_STORAGE_URI": self.redis_url,
                "RATELIMIT_STORAGE_OPTIONS": {"key_prefix": self.rate_limit_key_prefix},
                # Redis down: each worker counts on its own rather than sign-in failing.
                "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            }
        # Set explicitly: the limiter is one object for every app and keeps an unset flag.
        return {"RATELIMIT_ENABLED": True, "RATELIMIT_HEADERS_ENABLED": False, **storage}

    def replace(self, **changes) -> Settings:
        """A copy with some settings changed (tests, CLI overrides)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return Settings(**values)


def _webhooks(env: dict[str, str]) -> dict:
    """The WEBHOOK_* settings."""
    days = _positive(env, "WEBHOOK_BODY_RETENTION_DAYS", 7)
    if days < 4:
        # Bodies must outlive the retry schedule (about three days).
        raise ConfigError(f"WEBHOOK_BODY_RETENTION_DAYS must be at least 4, got {days}")
    timeout = env_number(env, "WEBHOOK_TIMEOUT_SECONDS", 10.0)
    if not 0 < timeout <= 60:
        raise ConfigError(f"WEBHOOK_TIMEOUT_SECONDS must be above 0 and at most 60, got {timeout}")
    return {
        "webhook_allow_private": _networks(env, "WEBHOOK_ALLOW_PRIVATE"),
        "webhook_timeout_seconds": timeout,
        "webhook_body_retention_days": days,
        "webhook_disable_after_hours": _positive(env, "WEBHOOK_DISABLE_AFTER_HOURS", 72),
    }


def _google(env: dict[str, str]) -> dict:
    """Google OAuth settings: optional, but a configured client needs a token encryption key."""
    client_id = env.get("GOOGLE_CLIENT_ID", "").strip()
    client_secret = env.get("GOOGLE_CLIENT_SECRET", "").strip()
    if bool(client_id) != bool(client_secret):
        raise ConfigError(
            "GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET are set together or not at all"
        )
    keys = tuple(k.strip() for k in env.get("TOKEN_ENCRYPTION_KEYS", "").split(",") if k.strip())
    if client_id and not keys:
        _required(env, "TOKEN_ENCRYPTION_KEYS")
    for key in keys:
        try:
            Fernet(key.encode())
        except ValueError as exc:
            raise ConfigError(
                "TOKEN_ENCRYPTION_KEYS must be comma-separated Fernet keys (url-safe base64)"
            ) from exc
    api_url = env.get("GMAIL_API_URL", "").strip().rstrip("/")
    if api_url and not api_url.startswith(("https://", "http://")):
        raise ConfigError(f"GMAIL_API_URL must be an http(s) URL, got {api_url!r}")
    return {
        "gmail_api_url": api_url,
        "google_client_id": client_id,
        "google_client_secret": client_secret,
        "token_encryption_keys": keys,
        "gmail_sync_minutes": env_number(env, "GMAIL_SYNC_MINUTES", 2, int),
        "gmail_read_bodies": env_flag(env, "GMAIL_READ_BODIES", False),
        **_gmail_push(env, bool(client_id)),
    }


# A Pub/Sub topic's full name, as users.watch takes it: projects/<project id>/topics/<name>.
_TOPIC = re.compile(r"projects/[a-z][-a-z0-9.:]{4,61}[a-z0-9]/topics/[A-Za-z][-\w.~+%]{2,254}")
_PUSH_NEEDS = ("GMAIL_PUSH_AUDIENCE", "GMAIL_PUSH_SERVICE_ACCOUNT")


def _gmail_push(env: dict[str, str], google: bool) -> dict:
    """The GMAIL_PUSH_* settings: off without a topic; a topic needs Google and both the
    audience and the service account its push requests are checked against."""
    topic = env.get("GMAIL_PUSH_TOPIC", "").strip()
    values = {name: env.get(name, "").strip() for name in _PUSH_NEEDS}
    if not topic:
        stray = [name for name, value in values.items() if value]
        if stray:
            raise ConfigError(f"{stray[0]} is set but GMAIL_PUSH_TOPIC is not")
    else:
        if not _TOPIC.fullmatch(topic):
            raise ConfigError(
                f"GMAIL_PUSH_TOPIC must be projects/<project>/topics/<topic>, got {topic!r}"
            )
        if not google:
            raise ConfigError("GMAIL_PUSH_TOPIC needs Google (GOOGLE_CLIENT_ID/SECRET)")
        for name, value in values.items():
            if not value:
                raise ConfigError(f"GMAIL_PUSH_TOPIC is set: {name} is required too")
        if "@" not in values["GMAIL_PUSH_SERVICE_ACCOUNT"]:
            raise ConfigError("GMAIL_PUSH_SERVICE_ACCOUNT must be the service account's email")
    return {
        "gmail_push_topic": topic,
        "gmail_push_audience": values["GMAIL_PUSH_AUDIENCE"],
        "gmail_push_service_account": values["GMAIL_PUSH_SERVICE_ACCOUNT"].lower(),
        "gmail_push_fallback_minutes": _positive(env, "GMAIL_PUSH_FALLBACK_MINUTES", 60),
    }


def _rate_limits(env: dict[str, str]) -> dict:
    """The RATE_LIMIT_* settings; a limit the limiter cannot parse stops the app at start."""
    values = {}
    for name in ("sign_in", "connect", "bad_tokens"):
        key = f"RATE_LIMIT_{name.upper()}"
        raw = env.get(key, "").strip()
        if raw:
            try:
                parse_many(raw)
            except ValueError as exc:
                raise ConfigError(
                    f"{key} must be limits like '10 per minute; 100 per hour'"
                ) from exc
            values[f"rate_limit_{name}"] = raw
    prefix = env.get("RATE_LIMIT_KEY_PREFIX", "").strip()
    return values | ({"rate_limit_key_prefix": prefix} if prefix else {})


def engine_options(url: str) -> dict:
    """Engine options per backend: SQLite waits on locks instead of failing at once."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 5}}
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5}


RETENTION_KINDS = ("messages", "contacts", "enrichment", "breaches", "data_requests")


def _retention(env: dict[str, str]) -> dict:
    """The RETENTION_<KIND>_DAYS settings; a negative number stops the app at start."""
    values = {}
    for kind in RETENTION_KINDS:
        key, field = f"RETENTION_{kind.upper()}_DAYS", f"retention_{kind}_days"
        days = env_number(env, key, Settings.__dataclass_fields__[field].default, int)
        if days < 0:
            raise ConfigError(f"{key} must be 0 (keep forever) or a number of days, got {days}")
        values[field] = days
    return values
