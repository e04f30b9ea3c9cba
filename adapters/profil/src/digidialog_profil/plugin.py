"""The ``profil`` entry point of the ``digidialog.adapters`` group."""

from __future__ import annotations

from digidialog.adapters.contract import EpjAdapter
from digidialog.adapters.registry import AdapterSettings
from digidialog.testing.mockbase import MockEpj
from digidialog_profil.adapter import ProfilAdapter
from digidialog_profil.mock import ProfilMock


class ProfilPlugin:
    """Makes Profil adapters and mocks for the registry."""

    name = "profil"
    adapter_class: type = ProfilAdapter

    def create(self, settings: AdapterSettings) -> EpjAdapter:
        """An adapter for the Profil EPJ at ``settings.base_url`` (see ProfilAdapter's options)."""
        return ProfilAdapter(settings)

    def mock(self, *, seed_citizens: int = 20) -> MockEpj:
        """A seeded Profil mock (services 1 HSP, 2 PB, 3 TRYGG), not yet serving."""
        return ProfilMock(seed_citizens=seed_citizens)

    def start_mock(self, mock: MockEpj, *, host: str, port: int) -> dict[str, str]:
        """Serve the mock; what a client needs to reach it."""
        base = mock.start(host=host, port=port)
        return {
            "base_url": base,
            "service_url": mock.service_url,
            "authentication": "HTTP Basic",
            "push": "NotifyEvent goes where ProfilMock.push_to(url, username, password) says",
        }


plugin = ProfilPlugin()
"""The registered plugin object."""
