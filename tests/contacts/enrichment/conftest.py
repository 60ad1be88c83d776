"""Fixtures of the enrichment job's tests: a settable clock (Clearbit's HTTP fake, `api`, is
the plugin fixture of tests/support/clearbit.py)."""

from __future__ import annotations

import pytest

from tests.support.enrichment import Clock


@pytest.fixture
def clock():
    """A settable clock."""
    return Clock()
