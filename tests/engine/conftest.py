"""Fixtures for the engine's end-to-end tests: every vendor, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.engine.world import World, world

VENDORS = ["gerica", "profil", "cosdoc"]
BACKENDS = ["embedded", pytest.param("production", marks=pytest.mark.services)]


@pytest.fixture(params=VENDORS)
def vendor(request: pytest.FixtureRequest) -> str:
    """The EPJ vendor of the world."""
    return str(request.param)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``embedded`` (SQLite, queues in the store) or ``production`` (PostgreSQL, RabbitMQ)."""
    return str(request.param)


@pytest.fixture
def running(vendor: str, backend: str, tmp_path: Path) -> Iterator[World]:
    """A started world: mock, store, transport, engine loops and portal simulator."""
    with world(vendor, backend, tmp_path) as started:
        yield started
