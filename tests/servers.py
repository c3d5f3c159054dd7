"""What the server fixtures share."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def server_missing(missing: str, skip: str) -> NoReturn:
    """A test server cannot start here: a failure where SQLLINEAGE_REQUIRE_SERVERS says the
    servers must be there (CI, ./scripts/test), else a skip saying what to install."""
    if os.environ.get("SQLLINEAGE_REQUIRE_SERVERS"):
        pytest.fail(f"{missing} required but missing")
    pytest.skip(skip)
