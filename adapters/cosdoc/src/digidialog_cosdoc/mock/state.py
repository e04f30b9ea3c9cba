"""What the CosDoc mock remembers, in CosDoc's own shape: PasientNr, Avtale, Hendelse.

The store is the fake EPJ's database. It holds patients (with PasientNr),
services (with TjenesteId), appointments (Dato, FraKl, TilKl as local text,
as CosDoc keeps them), staff messages, the messages and cancellations we sent
(each under our EksternId, so a repeat finds the first), and the event log
that HENDELSER reads. What staff do in the EPJ (a visit done, a message
written, cancellations decided) goes through methods here, and each appends
to the event log, as CosDoc would.

Every public method holds one re-entrant lock: the mock serves requests on
its own thread while a test pulls the levers.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from digidialog.domain import Appointment, AppointmentStatus, CancellationReason
from digidialog.domain.timezone import OSLO, to_oslo
from digidialog.testing import seed
from digidialog.testing.levers import year_after
from digidialog_cosdoc.localtime import wall_clock_instant
from digidialog_cosdoc.wire import HendelseType

SERVICE_IDS = {"HSP": 101, "PB": 102, "TRYGG": 103}
"""The mock's TjenesteId for each seed service."""

_STATUS = {AppointmentStatus.PLANNED: "P", AppointmentStatus.ASSIGNED: "T",
           AppointmentStatus.COMPLETED: "U", AppointmentStatus.CANCELLED: "A"}
CANCELLED_BY = {CancellationReason.BY_SERVICE: "T", CancellationReason.NOT_AT_HOME: "T",
                CancellationReason.BY_CITIZEN: "P", CancellationReason.ON_BEHALF_OF_CITIZEN: "P"}
"""CosDoc's AvlystAv for each reason: it tells only the patient (P) from the service (T)."""

NOTHING_TO_CANCEL = "Ingen besøk å avbestille"
"""The comment of a cancellation accepted by staff that covers no open visit (rejected)."""


@dataclass
class Tjeneste:
    """A service: Id, Navn, Digital."""

    id: int
    navn: str
    digital: bool


@dataclass
class Pasient:
    """A patient as CosDoc holds them."""

    nr: int
    fodselsnummer: str
    navn: str
    tjenester: list[int]
    digital: bool
    digital_fra: date | None = None


@dataclass
class Avtale:
    """An appointment: local date and clock times as CosDoc keeps them."""

    nr: int
    pasient_nr: int
    tjeneste_id: int
    status: str
    dato: date
    fra_kl: str
    til_kl: str
    gjentas: bool = False
    ansatt: str | None = None
    tekst: str = ""
    utfort_kl: str | None = None
    avlyst_av: str | None = None

    def span(self) -> tuple[datetime, datetime]:
        """The instants the appointment covers (first pass; TilKl before FraKl: next day)."""
        start = wall_clock_instant(self.dato, time.fromisoformat(self.fra_kl))
        end = wall_clock_instant(self.dato, time.fromisoformat(self.til_kl))
        if end < start:
            end = wall_clock_instant(date.fromordinal(self.dato.toordinal() + 1),
                                     time.fromisoformat(self.til_kl))
        return start, end


@dataclass
class Melding:
    """A message written by staff (HENT_MELDING)."""

    ref: str
    melding_id: str
    trad_id: str | None
    svar_pa: str | None
    tjeneste_id: int
    pasient_nr: int
    emne: str
    tekst: str
    forfatter: str
    sendt: datetime
    midlertidig: bool = False
    melding_type: str | None = None
    """Type (SVAR, DIALOG, VARSEL, AVSLUTT), or None to leave it out."""


@dataclass
class Innsendt:
    """A write we received (SEND_MELDING or AVBESTILL), kept under its EksternId."""

    ekstern_id: str
    ref: str
    pasient_nr: int
    fields: dict[str, object]
    tjenester: list[int] = field(default_factory=list)
    decided: bool = False
    akseptert: bool = False
    kommentar: str | None = None
    avtaler: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Hendelse:
    """One entry of the event log."""

    id: int
    type: HendelseType
    pasient_nr: int
    ref: str


class CosDocStore:
    """The mock's state, and the staff actions that change it."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.tjenester = {sid: Tjeneste(sid, s.name, s.open_for_dialog)
                          for s in seed.SERVICES for sid in [SERVICE_IDS[s.code]]}
        self.pasienter: dict[int, Pasient] = {}
        self.avtaler: dict[int, Avtale] = {}
        self.meldinger: dict[str, Melding] = {}
        self.sendt: dict[str, Innsendt] = {}
        self.avbestillinger: dict[str, Innsendt] = {}
        self.hendelser: list[Hendelse] = []
        self._pasient_nr = itertools.count(100_001)
        self._avtale_nr = itertools.count(5_000_001)
        self._ref = itertools.count(70_001)

    # ------------------------------------------------------------ seeding

    def seed(self, citizens: int, *, first_day: date | None = None) -> None:
        """Patients and visits from the shared seed data (as if there before the feed began)."""
        for citizen in seed.citizens(citizens, first_day=first_day):
            nr = self.add_patient(citizen.national_id, citizen.full_name,
                                  [SERVICE_IDS[c] for c in citizen.service_codes],
                                  digital=citizen.digitally_active)
            for visit in citizen.visits:
                self.add_appointment(nr, visit, announce=False)

    def add_patient(self, national_id: str, name: str, services: list[int], *,
                    digital: bool = False) -> int:
        """A patient (the same one again if the national id is known); their PasientNr."""
        with self.lock:
            for pasient in self.pasienter.values():
                if pasient.fodselsnummer == national_id:
                    return pasient.nr
            nr = next(self._pasient_nr)
            self.pasienter[nr] = Pasient(nr, national_id, name, services, digital)
            return nr

    def patient_by_national_id(self, national_id: str) -> Pasient | None:
        """The patient with this national id, if any."""
        with self.lock:
            return next((p for p in self.pasienter.values() if p.fodselsnummer == national_id),
                        None)

    def add_appointment(self, pasient_nr: int, visit: Appointment, *, announce: bool = True
                        ) -> list[int]:
        """Store a domain appointment as CosDoc would: a series becomes its occurrences
        (Gjentas J), paused ones left out. Its ``service_id`` is a seed code (``HSP``) or a
        TjenesteId (``"101"``). Returns the AvtaleNr of each; ``announce`` logs each one
        (see :meth:`add_avtale`)."""
        with self.lock:
            starts = [visit.start]
            if visit.recurrence is not None:
                starts = list(visit.recurrence.occurrences(visit.start, _last_day(visit)))
            duration = visit.end - visit.start
            numbers = []
            for start in starts:
                numbers.append(self.add_avtale(Avtale(
                    nr=next(self._avtale_nr), pasient_nr=pasient_nr,
                    tjeneste_id=_tjeneste_id(visit.service_id),
                    status=_STATUS[visit.status], dato=to_oslo(start).date(),
                    fra_kl=_clock(start), til_kl=_clock(start + duration),
                    gjentas=visit.recurrence is not None,
                    ansatt=visit.employees[0] if visit.employees else None,
                    tekst=visit.description or "",
                    utfort_kl=(to_oslo(visit.completed_at).strftime("%H:%M:%S")
                               if visit.completed_at else None),
                    avlyst_av=(CANCELLED_BY[visit.cancellation_reason]
                               if visit.cancellation_reason else None),
                ), announce=announce))
            return numbers

    def add_avtale(self, avtale: Avtale, *, announce: bool = True) -> int:
        """Store one appointment in CosDoc's shape; its Nr. ``announce`` logs it as staff
        putting it in would: AVTALE, or BESOK_UTFORT for a visit already done."""
        with self.lock:
            self.avtaler[avtale.nr] = avtale
            if announce:
                kind = HendelseType.BESOK_UTFORT if avtale.status == "U" else HendelseType.AVTALE
                self.log(kind, avtale.pasient_nr, str(avtale.nr))
            return avtale.nr

    def next_avtale_nr(self) -> int:
        """A fresh AvtaleNr."""
        with self.lock:
            return next(self._avtale_nr)

    # ------------------------------------------------------------ staff actions

    def log(self, kind: HendelseType, pasient_nr: int, ref: str) -> Hendelse:
        """Append to the event log."""
        with self.lock:
            hendelse = Hendelse(len(self.hendelser) + 1, kind, pasient_nr, ref)
            self.hendelser.append(hendelse)
            return hendelse

    def complete(self, avtale_nr: int, utfort_kl: str | None = None) -> None:
        """Staff register a visit done (at its end time unless told), logged BESOK_UTFORT."""
        with self.lock:
            avtale = self.avtaler[avtale_nr]
            avtale.status = "U"
            avtale.utfort_kl = utfort_kl or f"{avtale.til_kl}:00"
            avtale.ansatt = avtale.ansatt or "Ola Pleier"
            self.log(HendelseType.BESOK_UTFORT, avtale.pasient_nr, str(avtale_nr))

    def move(self, avtale_nr: int, start: datetime, end: datetime) -> None:
        """Staff move an appointment (Dato, FraKl, TilKl on the Oslo clock), logged AVTALE.

        CosDoc keeps one date and two clock times: an appointment of a day or more
        cannot be held, and is a ValueError.
        """
        if not start <= end < start + timedelta(days=1):
            raise ValueError("CosDoc holds appointments of under a day, ending after they start")
        with self.lock:
            avtale = self.avtaler[avtale_nr]
            avtale.dato = to_oslo(start).date()
            avtale.fra_kl, avtale.til_kl = _clock(start), _clock(end)
            self.log(HendelseType.AVTALE, avtale.pasient_nr, str(avtale_nr))

    def cancel(self, avtale_nr: int, avlyst_av: str = "T") -> None:
        """Staff cancel an appointment (Status A, AvlystAv T or P), logged AVTALE."""
        with self.lock:
            avtale = self.avtaler[avtale_nr]
            avtale.status, avtale.avlyst_av = "A", avlyst_av
            avtale.ansatt = avtale.utfort_kl = None
            self.log(HendelseType.AVTALE, avtale.pasient_nr, str(avtale_nr))

    def write_message(self, pasient_nr: int, text: str, *, subject: str = "Fra hjemmetjenesten",
                      author: str = "Kari Sykepleier", reply_to: Innsendt | None = None,
                      trad_id: str | None = None, svar_pa: str | None = None,
                      tjeneste_id: int | None = None, midlertidig: bool = False,
                      melding_type: str | None = None) -> str:
        """Staff write to a patient, logged MELDING: a new thread, or an answer to the
        message we sent (``reply_to``, or our ``trad_id`` and ``svar_pa``);
        ``melding_type`` is the Type code to send, or None to send none."""
        with self.lock:
            pasient = self.pasienter[pasient_nr]
            ref = f"M{next(self._ref)}"
            if reply_to is not None:
                trad_id, svar_pa = str(reply_to.fields["TradId"]), reply_to.ekstern_id
            if tjeneste_id is None:
                tjeneste_id = next((t for t in pasient.tjenester if self.tjenester[t].digital),
                                   pasient.tjenester[0])
            self.meldinger[ref] = Melding(
                ref=ref, melding_id=ref, trad_id=trad_id, svar_pa=svar_pa,
                tjeneste_id=tjeneste_id, pasient_nr=pasient_nr, emne=subject, tekst=text,
                forfatter=author, sendt=datetime.now(OSLO).replace(second=0, microsecond=0),
                midlertidig=midlertidig, melding_type=melding_type,
            )
            self.log(HendelseType.MELDING, pasient_nr, ref)
            return ref

    def decide(self, accept: bool, comment: str | None = None) -> int:
        """Staff decide every pending cancellation; accepted ones cancel their visits."""
        with self.lock:
            pending = [a for a in self.avbestillinger.values() if not a.decided]
            for request in pending:
                self.decide_request(request, accept, comment)
            return len(pending)

    def decide_request(self, request: Innsendt, accept: bool, comment: str | None = None
                       ) -> None:
        """Staff decide one pending cancellation: each visit it cancels is logged AVTALE
        (AvlystAv P), then the decision AVBESTILLING_SVAR."""
        with self.lock:
            affected = [a.nr for a in self.affected(request)] if accept else []
            # Nothing left to cancel (done, cancelled, none in the period): CosDoc cannot
            # accept it, and says why.
            accepted = bool(affected)
            request.decided, request.akseptert = True, accepted
            request.kommentar = comment if accepted == accept else NOTHING_TO_CANCEL
            request.avtaler = affected
            for nr in affected:
                self.cancel(nr, "P")
            self.log(HendelseType.AVBESTILLING_SVAR, request.pasient_nr, request.ref)

    def affected(self, request: Innsendt) -> list[Avtale]:
        """The patient's open visits a cancellation covers: its AvtaleNr, or its period and
        services (a visit overlapping the period is covered)."""
        fields = request.fields
        candidates = [a for a in self.avtaler.values()
                      if a.pasient_nr == request.pasient_nr and a.status in ("P", "T")]
        if "AvtaleNr" in fields:
            return [a for a in candidates if a.nr == int(str(fields["AvtaleNr"]))]
        start = wall_clock_instant(date.fromisoformat(str(fields["FraDato"])),
                                   time.fromisoformat(str(fields["FraKl"])))
        end = wall_clock_instant(date.fromisoformat(str(fields["TilDato"])),
                                 time.fromisoformat(str(fields["TilKl"])))
        covered = []
        for avtale in candidates:
            first, last = avtale.span()
            if avtale.tjeneste_id in request.tjenester and first < end and start < last:
                covered.append(avtale)
        return covered

    def new_ref(self, prefix: str) -> str:
        """A fresh Ref for a write."""
        with self.lock:
            return f"{prefix}{next(self._ref)}"


def _tjeneste_id(code: str | None) -> int:
    # The seed names services by code (HSP), a harness by the TjenesteId the adapter reports.
    if code is not None and code.isdigit():
        return int(code)
    return SERVICE_IDS.get(code or "", 101)


def _clock(value: datetime) -> str:
    return to_oslo(value).strftime("%H:%M")


def _last_day(visit: Appointment) -> date:
    # A series without an end date is stored for a year ahead, as a work plan would be.
    recurrence = visit.recurrence
    until = recurrence.until if recurrence is not None else None
    return until or year_after(visit.start)
