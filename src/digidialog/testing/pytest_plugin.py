"""A pytest plugin shipped with digidialog: the vendor mocks as a fixture.

Installed with digidialog (entry point ``pytest11``), so any project's tests
can ask for ``mock_epj`` once the mocks' extra is installed
(``pip install 'digidialog-gerica[mock]'``)::

    def test_my_integration(mock_epj):
        mock, client = mock_epj("gerica", seed_citizens=5)
        adapter = client.adapter()
        assert adapter.services()

Each mock is a stateful fake of the vendor's service on a free local port,
reached through the ``digidialog.mocks`` entry point, and stopped (its
certificates and stores removed) when the test ends, whatever its outcome.
``client.harness`` is the vendor's control API (:mod:`digidialog.testing.harness`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import pytest

from digidialog.adapters import registry
from digidialog.adapters.contract import EpjAdapter
from digidialog.adapters.registry import AdapterSettings
from digidialog.testing import mocks
from digidialog.testing.harness import ConformanceHarness

if TYPE_CHECKING:
    from digidialog.testing.mockbase import MockEpj


@dataclass(frozen=True)
class MockClient:
    """What a client of a started mock needs, and a way to make an adapter for it."""

    harness: ConformanceHarness

    @property
    def details(self) -> dict[str, str]:
        """Base URL, credentials, certificate files and options, as ``mock-epj`` prints them."""
        return mocks.connection_details(self.settings())

    @property
    def username(self) -> str:
        """The username the mock accepts (empty where the vendor uses certificates)."""
        return self.settings().username or ""

    @property
    def password(self) -> str:
        """The password the mock accepts (empty where the vendor uses certificates)."""
        return self.settings().password or ""

    def settings(self) -> AdapterSettings:
        """Adapter settings pointing at the mock, with its credentials or certificates."""
        return self.harness.settings()

    def adapter(self) -> EpjAdapter:
        """The vendor's adapter, made by its registered plugin, talking to the mock."""
        return registry.load(self.harness.vendor).create(self.settings())


StartMock = Callable[..., tuple["MockEpj", MockClient]]


@pytest.fixture
def mock_epj() -> Iterator[StartMock]:
    """Start a vendor's mock: ``mock_epj("profil", seed_citizens=20)`` -> (mock, client).

    Also ``first_day`` (the seed's first day) and ``example_changes`` (start the
    change feed with a staff message, a visit done and a cancellation decided).
    """
    started: list[ConformanceHarness] = []

    def start(vendor: str, *, seed_citizens: int = 20, first_day: date | None = None,
              example_changes: bool = False) -> tuple[MockEpj, MockClient]:
        try:
            harness = mocks.start(vendor, seed_citizens=seed_citizens, first_day=first_day,
                                  example_changes=example_changes)
        except mocks.MockUnavailable as error:
            pytest.fail(str(error), pytrace=False)
        started.append(harness)
        return harness.mock, MockClient(harness)

    try:
        yield start
    finally:
        mocks.stop_all(started)
