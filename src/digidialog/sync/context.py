"""What the engine knows about one municipality: its HER-ids, its services, its EPJ.

The daemon builds a :class:`Municipality` from its configuration; the engine
never reads configuration files itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from digidialog.adapters.contract import EpjAdapter
from digidialog.helsenorge import Party


@dataclass(frozen=True)
class ServiceRoute:
    """A service open to digital dialog: the EPJ's code, its TjenesteId and its HER-id."""

    vendor_code: str
    service_id: str
    her_id: str


@dataclass(frozen=True)
class Municipality:
    """One municipality served by the engine, and the adapter to its EPJ."""

    name: str
    her_id: str
    vendor: str
    adapter: EpjAdapter
    routes: tuple[ServiceRoute, ...]
    portal_her_id: str
    portal_name: str = "Helsenorge"
    statuses: tuple[str, ...] = ("planned", "assigned", "cancelled")
    require_registered_proxy: bool = False
    nightly_at: time | None = None
    """When the daemon runs the nightly job (Oslo wall clock); ``None``: only when asked."""
    welcome_message: str | None = None
    """The one-off notice the nightly job sends the newly digitally active, if any."""
    _by_her_id: dict[str, ServiceRoute] = field(init=False, repr=False, compare=False)
    _by_code: dict[str, ServiceRoute] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_her_id", {r.her_id: r for r in self.routes})
        object.__setattr__(self, "_by_code", {r.vendor_code: r for r in self.routes})

    def route_to(self, service_her_id: str | None) -> ServiceRoute | None:
        """The service a citizen wrote to (by its level-2 HER-id), if configured."""
        return None if service_her_id is None else self._by_her_id.get(service_her_id)

    def route_of(self, vendor_code: str) -> ServiceRoute | None:
        """The configured route of an EPJ service code, if any."""
        return self._by_code.get(vendor_code)

    def route_for_service_id(self, service_id: str) -> ServiceRoute | None:
        """The configured route whose TjenesteId towards Helsenorge is ``service_id``."""
        return next((r for r in self.routes if r.service_id == service_id), None)

    def service_party(self, route: ServiceRoute, service_name: str) -> Party:
        """This municipality's service as sender or receiver of a message."""
        return Party(her_ids=(self.her_id, route.her_id), names=(self.name, service_name))

    @property
    def portal_party(self) -> Party:
        """Helsenorge as receiver of a message that starts a conversation."""
        return Party(her_ids=(self.portal_her_id,), names=(self.portal_name,))
