"""Fixtures: a fresh store per test, on a SQLite file and (marked services) on PostgreSQL.

Each PostgreSQL test gets a schema of its own (named in the connection's
``search_path``), dropped afterwards, so tests never see each other's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digidialog.store import Store
from digidialog.testing.services import fresh_postgres_schema

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)]
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class ManualClock:
    """A clock the test moves by hand, so that leases and backoff need no sleeping."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)


@contextmanager
def fresh_url(backend: str, directory: Path) -> Iterator[str]:
    """A URL of an empty database of ``backend``."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / f'store-{uuid.uuid4().hex[:8]}.db'}"
    else:
        with fresh_postgres_schema() as url:
            yield url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``."""
    return str(request.param)


@pytest.fixture
def store_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (not yet migrated)."""
    with fresh_url(backend, tmp_path) as url:
        yield url


@pytest.fixture
def clock() -> ManualClock:
    """The test's clock, starting at :data:`T0`."""
    return ManualClock()


@pytest.fixture
def store(store_url: str, clock: ManualClock) -> Iterator[Store]:
    """A migrated store on the test's clock."""
    opened = Store.open(store_url, clock=clock)
    yield opened
    opened.close()


@pytest.fixture
def live_store(store_url: str) -> Iterator[Store]:
    """A migrated store on the real clock (for tests across threads and processes)."""
    opened = Store.open(store_url)
    yield opened
    opened.close()
