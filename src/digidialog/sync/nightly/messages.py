"""The messages the nightly job sends the portal: the status question, the service overview
and the welcome notice. Each builder says what to send; the parts decide whether.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from digidialog.domain import OverviewEntry
from digidialog.errors import FatalError
from digidialog.helsenorge import Function, Party, PortalMessage, Process, new_msg_id
from digidialog.helsenorge.processes import OVERVIEW_CODE
from digidialog.store import NightlyCitizen
from digidialog.sync.context import Municipality, ServiceRoute
from digidialog.sync.outgoing import patient_named

QUESTION = "SIDAB"
WELCOME_SUBJECT = "Velkommen til digital dialog"


def status_question(municipality: Municipality, citizens: Sequence[NightlyCitizen],
                    at: datetime) -> PortalMessage:
    """SIDAB: which of these citizens are digitally active? A Personer list, no Patient.

    The municipality asks on its own account (its level-1 HER-id alone), as the
    official example does.
    """
    return PortalMessage(
        process=Process.DIGITALBRUKER.value, function=Function.DIGITAL_STATUS_QUERY,
        code=QUESTION, msg_id=new_msg_id(), generated_at=at,
        sender=Party(her_ids=(municipality.her_id,), names=(municipality.name,)),
        receiver=municipality.portal_party,
        persons=tuple(patient_named(c.citizen_id, c.name) for c in citizens),
    )


def overview_entries(routes: Sequence[tuple[ServiceRoute, str]],
                     previous: Sequence[dict[str, Any]] | None, today: date
                     ) -> tuple[OverviewEntry, ...]:
    """The citizen's open services (route, service name), each from the day it was first
    sent (kept from ``previous``), or from ``today`` when it is new."""
    started = {entry["service_id"]: date.fromisoformat(entry["start"])
               for entry in previous or ()}
    return tuple(
        OverviewEntry(service_id=route.service_id, name=name, her_id=route.her_id,
                      start=started.get(route.service_id, today))
        for route, name in routes
    )


def check_routes(routes: Sequence[tuple[ServiceRoute, str]], today: date) -> None:
    """Refuse, naming it, a configured service no TjenesteOversikt can list (a TjenesteId
    over 30 characters, a HER-id of more than nine digits)."""
    for route, name in routes:
        try:
            OverviewEntry(service_id=route.service_id, name=name, her_id=route.her_id,
                          start=today)
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(p) for p in problem["loc"])
            raise FatalError(f"service {route.vendor_code!r} cannot be listed in a "
                             f"TjenesteOversikt: {where}: {problem['msg']}") from None


def overview_digest(entries: Sequence[OverviewEntry]) -> str:
    """A fingerprint of an overview's content: equal lists, equal fingerprints."""
    canonical = json.dumps([e.model_dump(mode="json") for e in entries], sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def service_overview(municipality: Municipality, sender: tuple[ServiceRoute, str],
                     citizen: NightlyCitizen, entries: Sequence[OverviewEntry],
                     at: datetime) -> PortalMessage:
    """TjenesteOversikt: the citizen's complete list of open services (empty: none any more).

    The portal keys each service on TjenesteId, the citizen and the sender's
    level-1 HER-id; level 2 names one of the municipality's services.
    """
    route, name = sender
    return PortalMessage(
        process=Process.TJENESTEOVERSIKT.value, function=Function.SERVICE_OVERVIEW,
        code=OVERVIEW_CODE, msg_id=new_msg_id(), generated_at=at,
        sender=municipality.service_party(route, name), receiver=municipality.portal_party,
        patient=patient_named(citizen.citizen_id, citizen.name), services=tuple(entries),
    )


def welcome(municipality: Municipality, sender: tuple[ServiceRoute, str],
            citizen: NightlyCitizen, text: str, at: datetime) -> PortalMessage:
    """The municipality's welcome as a one-off notice (EKI), from one of the citizen's
    open services: it cannot be answered."""
    route, name = sender
    return PortalMessage(
        process=Process.EKONTAKT.value, function=Function.SERVICE_NOTICE, code="EKI",
        msg_id=new_msg_id(), generated_at=at,
        sender=municipality.service_party(route, name), receiver=municipality.portal_party,
        patient=patient_named(citizen.citizen_id, citizen.name), subject=WELCOME_SUBJECT,
        body=text,
    )

