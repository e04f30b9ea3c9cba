"""The entry point digidialog's registry loads: ``digidialog.adapters`` → ``gerica``."""

from __future__ import annotations

from typing import Any

from digidialog.adapters.registry import AdapterSettings
from digidialog.adapters.soap import CallPolicy, new_session
from digidialog.errors import FatalError
from digidialog_gerica.adapter import GericaAdapter
from digidialog_gerica.wire import MAX_PAGE_SIZE

_POLICY_OPTIONS = ("attempts", "backoff_initial", "backoff_max", "max_reply_bytes", "deadline")


class GericaPlugin:
    """Makes Gerica adapters (the mock has its own entry point,
    :mod:`digidialog_gerica.mock.plugin`).

    Settings: ``base_url`` (the contract's ``{base}``), ``username`` and
    ``password`` (WS-Security), ``timeout``, ``ca`` (to check an HTTPS
    server's certificate). ``options``: ``page_size`` (1-500), ``attempts``,
    ``backoff_initial``, ``backoff_max``, ``max_reply_bytes``, ``deadline`` and
    ``cancellation_owner`` (a callable: our cancellation id to its citizen).
    """

    name = "gerica"
    adapter_class = GericaAdapter

    def create(self, settings: AdapterSettings) -> GericaAdapter:
        """An adapter for the Gerica in ``settings``."""
        if not settings.username or settings.password is None:
            raise FatalError("the Gerica adapter needs a username and password (WS-Security)")
        options: dict[str, Any] = dict(settings.options)
        policy = CallPolicy(timeout=settings.timeout,
                            **{k: options[k] for k in _POLICY_OPTIONS if k in options})
        session = new_session()
        if settings.ca is not None:
            session.verify = str(settings.ca)
        return GericaAdapter(
            settings.base_url, settings.username, settings.password, policy=policy,
            page_size=int(options.get("page_size", MAX_PAGE_SIZE)), session=session,
            cancellation_owner=options.get("cancellation_owner"),
        )


plugin = GericaPlugin()
"""The object the entry point names."""
