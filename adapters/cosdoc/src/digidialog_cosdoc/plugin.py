"""The entry point digidialog loads: ``digidialog.adapters`` -> ``cosdoc``."""

from __future__ import annotations

from digidialog.adapters.contract import EpjAdapter
from digidialog.adapters.registry import AdapterSettings
from digidialog.adapters.soap import CallPolicy
from digidialog.errors import FatalError
from digidialog_cosdoc.adapter import CosDocAdapter
from digidialog_cosdoc.stream import ExportLimits


class CosDocPlugin:
    """Makes CosDoc adapters for the registry and the CLI (the mock has its own entry point,
    :mod:`digidialog_cosdoc.mock.plugin`)."""

    name = "cosdoc"
    adapter_class = CosDocAdapter

    def create(self, settings: AdapterSettings) -> EpjAdapter:
        """An adapter for ``settings``: base URL and the three mutual-TLS files.

        Options (all optional): ``attempts`` (int), ``export_max_bytes`` (int),
        ``export_max_seconds`` (float).
        """
        if settings.client_cert is None or settings.client_key is None or settings.ca is None:
            raise FatalError("CosDoc uses mutual TLS: client_cert, client_key and ca are required")
        options = settings.options
        policy = CallPolicy(timeout=settings.timeout, attempts=int(options.get("attempts", 4)))
        defaults = ExportLimits()
        limits = ExportLimits(
            max_bytes=int(options.get("export_max_bytes", defaults.max_bytes)),
            max_seconds=float(options.get("export_max_seconds", defaults.max_seconds)),
        )
        return CosDocAdapter(settings.base_url, client_cert=settings.client_cert,
                             client_key=settings.client_key, ca=settings.ca,
                             policy=policy, limits=limits)


plugin = CosDocPlugin()
