"""The records the Gerica mock keeps, in Gerica's own shape, and the fault it answers with.

Instants are aware datetimes; codes are Gerica's own (PLANLAGT, BRUKER, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from digidialog_gerica.wire import FaultCode


class GericaFault(Exception):
    """A SOAP fault the mock answers with: ``faultcode`` and, if ``code``, a GericaFeil."""

    def __init__(self, code: FaultCode | None, description: str, *,
                 faultcode: str = "Client") -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.faultcode = faultcode


@dataclass
class Service:
    """Tjeneste."""

    code: str
    name: str
    open_for_dialog: bool


@dataclass
class Citizen:
    """Mottaker."""

    national_id: str
    name: str
    service_codes: list[str]
    digital: bool = False
    digital_since: date | None = None


@dataclass
class Visit:
    """Avtale (instants are aware)."""

    avtale_id: str
    citizen_id: str
    service_code: str
    status: str
    start: datetime
    end: datetime
    description: str
    changed: datetime
    rule: str | None = None
    employee: str | None = None
    done_at: datetime | None = None
    cancelled_by: str | None = None


@dataclass(frozen=True)
class StaffMessage:
    """Melding written by staff."""

    melding_id: str
    thread_id: str | None
    reply_to: str | None
    service_code: str
    citizen_id: str
    subject: str
    text: str
    author: str
    sent: datetime
    interim: bool
    kind: str | None = None
    """Meldingstype (SVAR, DIALOG, ENGANGSKONTAKT, AVSLUTNING), or None to leave it out."""


@dataclass(frozen=True)
class Person:
    """PaVegneAv and InnsendtAv."""

    national_id: str
    name: str


@dataclass(frozen=True)
class CitizenMessage:
    """Melding delivered by LeverMelding, with the reference Gerica gave it."""

    melding_id: str
    thread_id: str
    reply_to: str | None
    service_code: str
    citizen_id: str
    subject: str
    text: str
    sent: datetime
    on_behalf_of: Person | None
    reference: str


@dataclass
class Cancellation:
    """Avbestilling registered by RegistrerAvbestilling."""

    request_id: str
    citizen_id: str
    visit_id: str | None
    period: tuple[datetime, datetime] | None
    service_codes: tuple[str, ...]
    reason: str | None
    submitted_by: Person | None
    reference: str
    decided: bool = False


@dataclass(frozen=True)
class Decision:
    """Avbestillingssvar."""

    request_id: str
    accepted: bool
    comment: str | None
    affected: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    """Endring: Sekvens, Tidspunkt, Type and a snapshot of what changed."""

    sequence: int
    at: datetime
    kind: str
    payload: Visit | StaffMessage | Decision
