"""Column helpers shared by the models."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def iso(at: datetime | None) -> str | None:
    """An aware UTC datetime as ISO 8601 ending in "Z" (how the API and exports write times)."""
    return at.isoformat().replace("+00:00", "Z") if at else None


class UTCDateTime(TypeDecorator):
    """Stores UTC; always hands back aware datetimes (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Refuse naive datetimes; store UTC."""
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        """Hand back aware UTC datetimes."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
