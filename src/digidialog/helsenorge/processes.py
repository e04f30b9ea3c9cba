"""The process table: which (MsgInfo/Type, slot, code) triples digidialog serves, and as what.

Helsenorge uses one MsgInfo/Type per process for requests and replies alike;
the function is told apart by the Dialogmelding: ``Foresporsel/TypeForesp``
(code system 7601, or 7602 in the Avtale function) or ``Notat/TemaKodet``
(7602). The slot is part of the meaning: in Timereservasjon 1.2 a
``Foresporsel`` with ``08`` is the Avtale function's notice of a visit the
service cancelled, a ``Notat`` with ``08`` the answer to a cancellation.
Anything not in this table is refused with :class:`UnsupportedProcess`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from digidialog.errors import SchemaViolation, UnsupportedProcess
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
    """One served (process, slot, code) triple and how it is written."""

    process: Process
    code: str
    function: Function
    slot: Slot
    code_system: str
    display_name: str
    synchronous: bool = False
    needs_patient: bool = True
    """Whether MsgInfo/Patient is required (Digitalbruker's person lists go without)."""


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
        Route(ek, "17", Function.ATTEST_REPLY, n, TEMA_KODET, "Attest er ferdigstilt"),
        Route(ek, "18", Function.ATTEST_REPLY, n, TEMA_KODET, "Attest kan ikke utstedes"),
        Route(tr, "HBT", Function.PLANNED_APPOINTMENTS_REQUEST, f, TYPE_FORESP,
              "Hent bestilte timer", synchronous=True),
        Route(tr, "01", Function.PLANNED_APPOINTMENTS_REPLY, n, TEMA_KODET, "Bestilte timer",
              synchronous=True),
        Route(tr, "02", Function.PLANNED_APPOINTMENTS_REPLY, n, TEMA_KODET,
              "Ingen bestilte timer", synchronous=True),
        Route(db, "SDAB", Function.DIGITAL_STATUS_CHANGE, f, TYPE_FORESP,
              "Status digital aktiv bruker"),
        Route(db, "SIDAB", Function.DIGITAL_STATUS_QUERY, f, TYPE_FORESP,
              "Sjekk om innbyggere er digitalt aktive brukere", needs_patient=False),
        Route(db, "28", Function.DIGITAL_STATUS_REPLY, n, TEMA_KODET, "Digitale aktive brukere",
              needs_patient=False),
        Route(db, "29", Function.DIGITAL_STATUS_REPLY, n, TEMA_KODET, "Ingen digitale brukere",
              needs_patient=False),
        Route(Process.TJENESTEOVERSIKT, OVERVIEW_CODE, Function.SERVICE_OVERVIEW, Slot.NONE, "",
              "Oversikt"),
    ]
    # The Avtale function: Avtaleutsending's only one, and one of Timereservasjon 1.2's.
    for process in (au, tr):
        routes += [
            Route(process, "MOA", Function.APPOINTMENT_NOTICE, f, TYPE_FORESP,
                  "Melding om avtale"),
            Route(process, "05", Function.BOOKING_CONFIRMATION, f, TEMA_KODET,
                  "Timereservasjon bekreftet"),
            Route(process, "07", Function.APPOINTMENT_NOTICE, f, TEMA_KODET,
                  "Endring av time bekreftet"),
            Route(process, "08", Function.APPOINTMENT_NOTICE, f, TEMA_KODET,
                  "Avbestilling av time bekreftet"),
            Route(process, "11", Function.APPOINTMENT_NOTICE, f, TEMA_KODET, "Pasient ikke møtt"),
        ]
    # AvbestillAvtale / SvarAvbestilling: Avtaleavbestilling's, and Timereservasjon 1.2's.
    for process in (aa, tr):
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
            # Digitalbruker's refusal answers a SIDAB, which names no patient either.
            Route(process, code, Function.REFUSAL, n, TEMA_KODET, name,
                  synchronous=process is tr, needs_patient=process is not db)
            for code, name in refusals
        ]
    return routes


ROUTES: dict[tuple[Process, Slot, str], Route] = {
    (r.process, r.slot, r.code): r for r in _routes()
}
"""Every served route, by what the wire shows: process, slot and code."""

_BY_FUNCTION: dict[tuple[Process, Function, str], Route] = {
    (r.process, r.function, r.code): r for r in ROUTES.values()
}


def _by_code() -> dict[tuple[Process, str], tuple[Route, ...]]:
    found: dict[tuple[Process, str], tuple[Route, ...]] = {}
    for route in ROUTES.values():
        found[(route.process, route.code)] = (*found.get((route.process, route.code), ()), route)
    return found


_BY_CODE = _by_code()

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


def routes_for(process: Process, code: str) -> tuple[Route, ...]:
    """Every route of ``process`` with ``code``, whatever its slot (usually one)."""
    return _BY_CODE.get((process, code), ())


def route_for(
    process: Process, code: str, *, slot: Slot | None = None,
    function: Function | None = None, reading: bool = False,
) -> Route:
    """The route of (``process``, ``code``) in ``slot`` (reading) or doing ``function``
    (writing).

    Raises :class:`UnsupportedProcess` when the process serves no such code,
    :class:`SchemaViolation` when it does, but not in that slot or as that
    function, and :class:`ValueError` when the code alone is ambiguous
    (Timereservasjon ``08``) and neither slot nor function was named.
    """
    if reading:
        code = _READ_ALIASES.get((process, code), code)
    # One dictionary look-up on the way of every message read or written.
    if slot is not None:
        route = ROUTES.get((process, slot, code))
    elif function is not None:
        route = _BY_FUNCTION.get((process, function, code))
    else:
        candidates = routes_for(process, code)
        if len(candidates) > 1:
            raise ValueError(f"{process.value} {code!r} is ambiguous: name the slot or function")
        route = candidates[0] if candidates else None
    if route is not None and (function is None or route.function is function):
        return route
    raise _not_served(process, code, slot, function)


def _not_served(process: Process, code: str, slot: Slot | None,
                function: Function | None) -> UnsupportedProcess | SchemaViolation:
    candidates = routes_for(process, code)
    if not candidates:
        return UnsupportedProcess(
            f"unsupported process: {process.value} with code {code!r} is not served",
            location="Dialogmelding",
        )
    served = " or ".join(f"{r.function.value} in a {r.slot.value}" for r in candidates)
    asked = function.value if function is not None else f"in a {slot}"
    return SchemaViolation(
        f"code {code!r} in {process.value} is {served}, not {asked}", location="Dialogmelding"
    )
