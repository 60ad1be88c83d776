"""The settings form's values: a retention that is not plain ASCII digits is refused by name."""

from __future__ import annotations

import pytest

from server.accounts import settings as account_settings


@pytest.mark.parametrize("days", ["²", "①", "٣", "\uff13\uff10", "9" * 5000, "-5", "30.0", ""])
def test_retention_must_be_ascii_digits(days):
    with pytest.raises(account_settings.SettingsError, match="Retention must be"):
        account_settings.parse({"retention_days": days})


def test_a_plain_retention_is_taken():
    assert account_settings.parse({"retention_days": " 30 "})["retention_days"] == 30
