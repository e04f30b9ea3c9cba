"""The process table: which (MsgInfo/Type, code) pairs digidialog serves, and as what.

Helsenorge uses one MsgInfo/Type per process for requests and replies alike;
the function is told apart by the Dialogmelding: ``Foresporsel/TypeForesp``
(code system 7601, or 7602 in Avtaleutsending) or ``Notat/TemaKodet`` (7602).
Anything not in this table is refused with :class:`UnsupportedProcess`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from digidialog.errors import UnsupportedProcess
from digidialog.helsenorge.message import Function


class Process(StrEnum):
    """MsgInfo/Type values of the processes digidialog serves (code system 8279)."""

    EKONTAKT = "DIALOG_INNBYGGER_EKONTAKT"
    TIMERESERVASJON = "DIALOG_INNBYGGER_TIMERESERVASJON"
    AVTALEUTSENDING = "DIALOG_INNBYGGER_AVTALEUTSENDING"
    AVTALEAVBESTILLING = "DIALOG_INNBYGGER_AVTALEAVBESTILLING"
    DIGITALBRUKER = "DIALOG_INNBYGGER_DIGITALBRUKER"
    TJENESTEOVERSIKT = "DIALOG_INNBYGGER_TJENESTEOVERSIKT"
    APPREC = "APPREC"

    @property
    def display_name(self) -> str:
        """The DN written beside the Type."""
        return _PROCESS_NAMES[self]


_PROCESS_NAMES = {
    Process.EKONTAKT: "Dialog med innbygger - eKontakt",
    Process.TIMERESERVASJON: "Dialog med innbygger - timereservasjon",
    Process.AVTALEUTSENDING: "Dialog med innbygger - avtaleutsending",
    Process.AVTALEAVBESTILLING: "Dialog med innbygger - avtaleavbestilling",
    Process.DIGITALBRUKER: "Dialog med innbygger - digital bruker",
    Process.TJENESTEOVERSIKT: "Dialog med innbygger - tjenesteoversikt",
    Process.APPREC: "Applikasjonskvittering",
}

# Spellings found in real files, read as the process they mean and never written.
_MISSPELLINGS = {"DIALOG_INNBYGGER_AVTALEBESTILLING": Process.AVTALEAVBESTILLING}
_BY_VALUE = {process.value: process for process in Process}

TYPE_FORESP = "2.16.578.1.12.4.1.1.7601"
TEMA_KODET = "2.16.578.1.12.4.1.1.7602"

OVERVIEW_CODE = "Oversikt"
"""TjenesteOversikt carries no Dialogmelding; its function name stands in as code."""


class Slot(StrEnum):
    """Where the code sits in the Dialogmelding."""

    FORESPORSEL = "Foresporsel"
    NOTAT = "Notat"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Route:
    """One served (process, code) pair and how it is written."""

    process: Process
    code: str
    function: Function
    slot: Slot
    code_system: str
    display_name: str
    synchronous: bool = False


def _routes() -> list[Route]:
    f, n = Slot.FORESPORSEL, Slot.NOTAT
    ek, tr, au, aa, db = (
        Process.EKONTAKT,
        Process.TIMERESERVASJON,
        Process.AVTALEUTSENDING,
        Process.AVTALEAVBESTILLING,
        Process.DIGITALBRUKER,
    )
    refusals = [
        ("26", "Forespørsel avvist"),
        ("30", "Ikke tilgang"),
        ("31", "Generell feil"),
    ]
    routes = [
        Route(ek, "HE", Function.CITIZEN_MESSAGE, f, TYPE_FORESP, "Henvendelse"),
        Route(ek, "19", Function.SERVICE_REPLY, n, TEMA_KODET, "Svar på henvendelse"),
        Route(ek, "DI", Function.SERVICE_MESSAGE, f, TYPE_FORESP, "Dialog med innbygger"),
        Route(ek, "EKI", Function.SERVICE_NOTICE, f, TYPE_FORESP, "Engangskontakt med innbygger"),
        Route(ek, "22", Function.CITIZEN_REPLY, n, TEMA_KODET, "Svar fra innbygger"),
        Route(ek, "13", Function.THREAD_CLOSED, n, TEMA_KODET, "Dialog avsluttet"),
        Route(tr, "HBT", Function.PLANNED_APPOINTMENTS_REQUEST, f, TYPE_FORESP,
              "Hent bestilte timer", synchronous=True),
        Route(tr, "01", Function.PLANNED_APPOINTMENTS_REPLY, n, TEMA_KODET, "Bestilte timer",
              synchronous=True),
        Route(tr, "02", Function.PLANNED_APPOINTMENTS_REPLY, n, TEMA_KODET,
              "Ingen bestilte timer", synchronous=True),
        Route(au, "MOA", Function.APPOINTMENT_NOTICE, f, TYPE_FORESP, "Melding om avtale"),
        Route(au, "07", Function.APPOINTMENT_NOTICE, f, TEMA_KODET, "Endring av time bekreftet"),
        Route(au, "08", Function.APPOINTMENT_NOTICE, f, TEMA_KODET,
              "Avbestilling av time bekreftet"),
        Route(au, "11", Function.APPOINTMENT_NOTICE, f, TEMA_KODET, "Pasient ikke møtt"),
        Route(db, "SDAB", Function.DIGITAL_STATUS_CHANGE, f, TYPE_FORESP,
              "Status digital aktiv bruker"),
        Route(db, "SIDAB", Function.DIGITAL_STATUS_QUERY, f, TYPE_FORESP,
              "Sjekk om innbyggere er digitalt aktive brukere"),
        Route(db, "28", Function.DIGITAL_STATUS_REPLY, n, TEMA_KODET, "Digitale aktive brukere"),
        Route(db, "29", Function.DIGITAL_STATUS_REPLY, n, TEMA_KODET, "Ingen digitale brukere"),
        Route(Process.TJENESTEOVERSIKT, OVERVIEW_CODE, Function.SERVICE_OVERVIEW, Slot.NONE, "",
              "Oversikt"),
    ]
    for process in (tr, aa):
        routes += [
            Route(process, "ART", Function.CANCELLATION_REQUEST, f, TYPE_FORESP,
                  "Avbestill reservert time"),
            Route(process, "08", Function.CANCELLATION_REPLY, n, TEMA_KODET,
                  "Avbestilling av time bekreftet"),
            Route(process, "09", Function.CANCELLATION_REPLY, n, TEMA_KODET,
                  "Time kunne ikke avbestilles"),
        ]
    for process in (ek, tr, aa, db):
        routes += [
            Route(process, code, Function.REFUSAL, n, TEMA_KODET, name,
                  synchronous=process is tr)
            for code, name in refusals
        ]
    return routes


ROUTES: dict[tuple[Process, str], Route] = {(r.process, r.code): r for r in _routes()}

# Codes read as another one: the official HentPlanlagteTimer example carries HLT.
_READ_ALIASES = {(Process.TIMERESERVASJON, "HLT"): "HBT"}


def process_of(type_value: str) -> tuple[Process, bool]:
    """The served process a MsgInfo/Type names, and whether it was misspelt."""
    # A dictionary, not Process(type_value): calling an enum costs a microsecond, which
    # is visible in decoding a small message.
    process = _BY_VALUE.get(type_value)
    if process is not None:
        return process, False
    if type_value in _MISSPELLINGS:
        return _MISSPELLINGS[type_value], True
    raise UnsupportedProcess(f"unsupported process {type_value!r}", location="MsgInfo/Type")


def route_for(process: Process, code: str, *, reading: bool = False) -> Route:
    """The route for a (process, code) pair, or :class:`UnsupportedProcess`."""
    if reading:
        code = _READ_ALIASES.get((process, code), code)
    route = ROUTES.get((process, code))
    if route is None:
        raise UnsupportedProcess(
            f"unsupported process: {process.value} with code {code!r} is not served",
            location="Dialogmelding",
        )
    return route
