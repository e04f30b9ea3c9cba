"""Municipal services (tjenester), who receives them, and who may use them digitally.

A :class:`Service` is one home service of one municipality (hjemmesykepleie,
praktisk bistand, ...): its code in the EPJ, its id towards Helsenorge
(TjenesteId, the value after ``TjenesteId:`` in xCal categories), the HER-id of
the communication party that citizens write to, and whether the municipality
has opened it for digital dialog. :func:`may_use_service` is the rule: only a
service the citizen actually receives AND that is open.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from pydantic import Field

from digidialog.domain.base import ALLOWED, Decision, Frozen

HerId = str
"""A HER-id (Adresseregisteret), kept as the digit string the registry prints."""


class Service(Frozen):
    """One home service of one municipality."""

    vendor_code: str = Field(min_length=1, description="the service's code in the EPJ")
    service_id: str = Field(
        min_length=1, max_length=30, description="TjenesteId towards Helsenorge"
    )
    name: str = Field(min_length=1)
    her_id: HerId = Field(pattern=r"^\d{1,9}$", description="level-2 HER-id citizens write to")
    open_for_dialog: bool = False


class ServiceCatalog(Frozen):
    """The services of one municipality, looked up by either id."""

    municipality: str
    municipality_her_id: HerId = Field(pattern=r"^\d{1,9}$")
    services: tuple[Service, ...] = ()

    def by_service_id(self, service_id: str) -> Service | None:
        """The service Helsenorge calls ``service_id``, if the municipality has it."""
        wanted = normalise_service_id(service_id)
        return next((s for s in self.services if s.service_id == wanted), None)

    def by_vendor_code(self, code: str) -> Service | None:
        """The service the EPJ calls ``code``, if the municipality has it."""
        return next((s for s in self.services if s.vendor_code == code), None)

    def by_her_id(self, her_id: HerId) -> list[Service]:
        """Every service addressed through this HER-id (several may share one)."""
        return [s for s in self.services if s.her_id == her_id]


class ServiceEnrolment(Frozen):
    """That a citizen receives a service, from a date, possibly until a date."""

    citizen_id: str
    service_id: str
    start: date
    end: date | None = None

    def is_active_on(self, day: date) -> bool:
        """Whether the citizen receives the service on ``day``."""
        return self.start <= day and (self.end is None or day <= self.end)


def normalise_service_id(raw: str) -> str:
    """A TjenesteId as written in xCal categories, without prefix or stray spaces.

    Real files write ``TjenesteId:12``, ``tjenesteId:12`` and ``TjenesteId: 9``.
    """
    text = raw.strip()
    if text.lower().startswith("tjenesteid:"):
        text = text[len("tjenesteid:") :]
    return text.strip()


def may_use_service(
    service: Service | None,
    citizen_id: str,
    enrolments: Iterable[ServiceEnrolment],
    day: date,
) -> Decision:
    """May the citizen write to, or cancel visits with, ``service`` on ``day``?

    Only when the citizen receives it that day and the municipality has opened
    it for digital dialog. Anything else is answered with code ``26``.
    """
    if service is None:
        return Decision(allowed=False, reason="unknown service")
    if not service.open_for_dialog:
        return Decision(allowed=False, reason="service is not open for digital dialog")
    receives = any(
        e.citizen_id == citizen_id and e.service_id == service.service_id and e.is_active_on(day)
        for e in enrolments
    )
    if not receives:
        return Decision(allowed=False, reason="citizen does not receive this service")
    return ALLOWED


def open_services_for(
    catalog: ServiceCatalog, enrolments: Iterable[ServiceEnrolment], citizen_id: str, day: date
) -> list[Service]:
    """The services a citizen may use digitally on ``day``: what TjenesteOversikt lists."""
    active = {
        e.service_id for e in enrolments if e.citizen_id == citizen_id and e.is_active_on(day)
    }
    return [s for s in catalog.services if s.open_for_dialog and s.service_id in active]
