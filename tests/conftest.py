"""Suite-wide collection order: the Spark tests first. Their one long test (a Spark session,
a query per guide) then starts on one xdist worker while the other runs the rest, instead of
running alone at the end."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the tests of tests/test_spark.py first, keeping every other order."""
    items.sort(key=lambda item: 0 if item.nodeid.startswith("tests/test_spark.py") else 1)
