"""A pytest plugin shipped with digidialog: the vendor mocks as a fixture.

Installed with digidialog (entry point ``pytest11``), so any project's tests
can ask for ``mock_epj``::

    def test_my_integration(mock_epj):
        mock, client = mock_epj("gerica", seed_citizens=5)
        adapter = client.adapter()
        assert adapter.services()

Each mock is a stateful fake of the vendor's service on a free local port
(pytest-httpserver underneath), stopped when the test ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from digidialog.adapters import registry
from digidialog.adapters.contract import EpjAdapter
from digidialog.adapters.registry import AdapterPlugin, AdapterSettings
from digidialog.testing.mockbase import MockEpj


@dataclass(frozen=True)
class MockClient:
    """What a client of a started mock needs, and a way to make an adapter for it."""

    plugin: AdapterPlugin
    details: dict[str, str]
    username: str
    password: str

    def settings(self) -> AdapterSettings:
        """Adapter settings pointing at the mock, with its credentials or certificates."""
        def path(key: str) -> Path | None:
            return Path(self.details[key]) if key in self.details else None

        return AdapterSettings(
            base_url=self.details["base_url"], username=self.username, password=self.password,
            client_cert=path("client_cert"), client_key=path("client_key"), ca=path("ca"),
        )

    def adapter(self) -> EpjAdapter:
        """The vendor's adapter, talking to the mock."""
        return self.plugin.create(self.settings())


StartMock = Callable[..., tuple[MockEpj, MockClient]]


@pytest.fixture
def mock_epj() -> Iterator[StartMock]:
    """Start a vendor's mock: ``mock_epj("profil", seed_citizens=20)`` -> (mock, client)."""
    started: list[MockEpj] = []

    def start(vendor: str, *, seed_citizens: int = 20) -> tuple[MockEpj, MockClient]:
        plugin = registry.load(vendor)
        mock = plugin.mock(seed_citizens=seed_citizens)
        details = plugin.start_mock(mock, host="127.0.0.1", port=0)
        started.append(mock)
        return mock, MockClient(plugin, details, mock.username, mock.password)

    yield start
    for mock in started:
        mock.stop()
