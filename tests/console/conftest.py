"""What every console test shares."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from hotline_bridge.console import auth


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash with argon2id at its lightest cost: the suite signs in hundreds of times, and the
    cost parameters are the library's business, not these tests'. (A hash records its own
    parameters, so a server started by a test verifies these too.)"""
    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024))
