"""The ``profil`` entry point of the ``digidialog.adapters`` group."""

from __future__ import annotations

from digidialog.adapters.contract import EpjAdapter
from digidialog.adapters.registry import AdapterSettings
from digidialog_profil.adapter import ProfilAdapter


class ProfilPlugin:
    """Makes Profil adapters for the registry (the mock has its own entry point,
    :mod:`digidialog_profil.mock.plugin`)."""

    name = "profil"
    adapter_class: type = ProfilAdapter

    def create(self, settings: AdapterSettings) -> EpjAdapter:
        """An adapter for the Profil EPJ at ``settings.base_url`` (see ProfilAdapter's options)."""
        return ProfilAdapter(settings)


plugin = ProfilPlugin()
"""The registered plugin object."""
