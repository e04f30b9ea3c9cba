"""Who may do what: a service open and received, a relative holding a proxy that covers it.

Two questions are asked of every citizen request (a message, HentPlanlagteTimer,
a cancellation): may this citizen use this service digitally, and, when a
relative acts (Pasientrelasjon), may they do this for the citizen. The answer
is ``None`` (go ahead) or a :class:`Refusal` with the Dialogmelding code and a
text the citizen understands.

Services are looked up through a :class:`ServiceView`: the EPJ's directory
(cached, refreshed from the EPJ) where the engine may wait for the EPJ, the
store's roster where it must not (synchronous questions).

Helsenorge checks a proxy before it sends anything, and tells us only the
relation. Proxies the municipality registered (:class:`~digidialog.store.Proxies`)
are held against the relative: outside its dates, or outside its scope, the
request is refused with ``30``. A relative with no registered proxy is let
through on the portal's word, unless the municipality requires registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from digidialog.domain import Action, Person, may_act_for
from digidialog.store import Store
from digidialog.sync.directory import Directory
from digidialog.sync.outgoing import REFUSED

NO_ACCESS = "30"
"""The person asking has no right to this for the citizen."""

CLOSED_TEXT = "Tjenesten tar ikke imot digitale henvendelser."
NOT_RECEIVED_TEXT = "Du mottar ikke denne tjenesten, og kan derfor ikke bruke den digitalt."
_PROXY_TEXTS = {
    "no proxy for this citizen": "Du har ikke registrert fullmakt for denne personen hos "
                                 "kommunen.",
    "proxy is not valid on this date": "Fullmakten din for denne personen gjelder ikke lenger "
                                       "(eller ikke ennå).",
    "proxy scope does not cover this action": "Fullmakten din for denne personen gir ikke "
                                              "tilgang til dette.",
    "a proxy holder must be 18 or older": "Du må være over 18 år for å bruke en fullmakt.",
}


@dataclass(frozen=True)
class Refusal:
    """Why a request is refused: the Dialogmelding code and a text for the citizen."""

    code: str
    text: str
    reason: str
    """The same in a few English words, for logs (never names or ids)."""


class ServiceView(Protocol):
    """Which services are open and who receives them."""

    def is_open(self, code: str) -> bool:
        """Whether the EPJ's service ``code`` is open for digital dialog."""
        ...

    def receives(self, citizen_id: str, code: str) -> bool:
        """Whether the citizen receives service ``code``."""
        ...


class DirectoryView:
    """The EPJ's answers, cached (may call the EPJ)."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def is_open(self, code: str) -> bool:
        """Open in the EPJ."""
        service = self.directory.service(code)
        return service is not None and service.open_for_dialog

    def receives(self, citizen_id: str, code: str) -> bool:
        """In the EPJ's list of the service's recipients."""
        return self.directory.recipient(citizen_id, code) is not None


class RosterView:
    """The store's copy of the EPJ's answers (never calls the EPJ)."""

    def __init__(self, store: Store, municipality: str) -> None:
        self.store = store
        self.municipality = municipality

    def is_open(self, code: str) -> bool:
        """Open when last listed."""
        service = self.store.roster.services(self.municipality).get(code)
        return service is not None and service.open_for_dialog

    def receives(self, citizen_id: str, code: str) -> bool:
        """A recipient when last listed."""
        return code in self.store.roster.services_of(self.municipality, citizen_id)


def service_refusal(view: ServiceView, citizen_id: str, code: str | None) -> Refusal | None:
    """``26`` when the service (``None``: not one configured) is closed or not received."""
    if code is None or not view.is_open(code):
        return Refusal(REFUSED, CLOSED_TEXT, "service closed")
    if not view.receives(citizen_id, code):
        return Refusal(REFUSED, NOT_RECEIVED_TEXT, "service not received")
    return None


def proxy_refusal(store: Store, municipality: str, citizen_id: str, relative: Person | None,
                  action: Action, at: datetime, *, require_registered: bool = False
                  ) -> Refusal | None:
    """``30`` when the relative acting for the citizen may not do ``action``; ``None`` if they may
    (or nobody but the citizen acts)."""
    if relative is None or relative.national_id == citizen_id:
        return None
    registered = store.proxies.of(municipality, citizen_id, relative.national_id)
    if not registered and not require_registered:
        return None
    decision = may_act_for(relative.national_id, citizen_id, action, registered, at,
                           actor=relative)
    if decision.allowed:
        return None
    reason = decision.reason or "no access"
    return Refusal(NO_ACCESS, _PROXY_TEXTS.get(reason, "Du har ikke tilgang til dette."), reason)
