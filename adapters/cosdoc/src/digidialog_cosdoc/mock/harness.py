"""CosDoc's control API (:class:`~digidialog.testing.harness.ConformanceHarness`): the mock
over mutual TLS, adapters pointed at it, and the levers staff would pull.

The certificates live in an owner-only temporary folder made when the harness
starts and removed when it stops. The conformance suite, ``digidialog
mock-epj`` and the ``mock_epj`` fixture reach the harness through the
``digidialog.mocks`` entry point (:mod:`.plugin`).

CosDoc keeps local dates and ``HH:MM`` times with no DST flag, so a visit in
the second pass of the repeated autumn hour cannot be told from one in the
first: the mock stores what CosDoc would store (the wall-clock digits), and
the harness expects what CosDoc can express, the *first* pass. Every other
instant comes back exactly, to the minute (CosDoc keeps ``HH:MM``; a completion
time ``HH:MM:SS``, on the visit's date).

What else CosDoc's contract can carry of a visit, and so what the adapter reports:

- one ``Ansatt`` per visit (:attr:`CosDocHarness.employees_kept` is 1);
- ``AvlystAv`` is ``P`` (patient) or ``T`` (service): a visit the patient was
  not at home for is cancelled by the service (``by_service``), one cancelled
  on the patient's behalf by the patient (``by_citizen``);
- ``Tekst`` travels in Latin-1 documents with character references: any text
  (Sámi, emoji) comes back exactly;
- **a planned series has no rule**: ``Gjentas`` J marks each occurrence, which
  is an Avtale of its own (its own Nr), so the adapter reports one planned
  appointment per occurrence, without recurrence. Paused occurrences are simply
  not stored; a series without ``until`` is stored a year ahead, as a work plan
  would be. :meth:`CosDocHarness.seed_planned_series` returns the first
  occurrence's Nr and :meth:`CosDocHarness.expected_planned` lists them all;
- everything staff do is logged in HENDELSER: a visit seeded with ``announce``
  (AVTALE, or BESOK_UTFORT for one already done; a series logs every
  occurrence, so give a long one an ``until``), moved or cancelled (AVTALE).
"""

from __future__ import annotations

import random
import shutil
import tempfile
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from digidialog.adapters.contract import EpjAdapter
from digidialog.adapters.registry import AdapterSettings
from digidialog.adapters.soap import CallPolicy
from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Weekday,
)
from digidialog.domain.timezone import OSLO, to_oslo
from digidialog.errors import DigidialogError, InvalidRequest, VendorRejected
from digidialog.testing import levers, seed
from digidialog.testing.harness import DeliveredMessage, ExpectedVisit
from digidialog.testing.readback import ReadBack
from digidialog_cosdoc.adapter import CosDocAdapter
from digidialog_cosdoc.localtime import wall_clock_instant
from digidialog_cosdoc.mock import certs
from digidialog_cosdoc.mock.server import CosDocMock
from digidialog_cosdoc.mock.state import CANCELLED_BY, Avtale, Innsendt

MELDING_TYPES = {"answer": "SVAR", "dialog": "DIALOG", "notice": "VARSEL", "closing": "AVSLUTT"}
"""The contract's Melding/Type code for each kind (written out here, not taken from the
adapter, so the suite checks the adapter's reading of them)."""

HSP, PB = "101", "102"


def expressible(instant: datetime) -> datetime:
    """The instant CosDoc gives back for ``instant``: its Oslo wall clock, read as the first
    pass (identical except in the second pass of the repeated autumn hour)."""
    local = to_oslo(instant)
    return wall_clock_instant(local.date(), local.time().replace(tzinfo=None))


class CosDocHarness:
    """What the conformance suite needs, for CosDoc."""

    vendor = "cosdoc"
    page_size = 1000
    final_faults: dict[str, type[DigidialogError]] = {  # noqa: RUF012 - the protocol's shape
        "1": InvalidRequest,
        "2": VendorRejected,
        "SOAP": InvalidRequest,
    }
    retriable_fault: str | None = "3"
    busy_retry_after = False
    employees_kept = 1  # one Ansatt per Avtale
    cancellation_reasons = levers.CITIZEN_OR_SERVICE  # AvlystAv P | T

    def __init__(self, *, seed_citizens: int = 3, first_day: date | None = None) -> None:
        """A mock with ``seed_citizens`` seeded patients, their visits around ``first_day``."""
        self.mock = CosDocMock(seed_citizens=seed_citizens, first_day=first_day)
        self._rng = random.Random(2026)  # noqa: S311 - test data
        self._directory: Path | None = None
        self.files: certs.CertificateFiles | None = None
        self._adapters: list[CosDocAdapter] = []
        self._read_back = ReadBack(self.adapter)
        self._series: dict[str, list[int]] = {}

    def start(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve the mock over mutual TLS on ``host:port``, with fresh certificates."""
        # mkdtemp makes the folder readable by its owner only: it holds private keys.
        self._directory = Path(tempfile.mkdtemp(prefix="cosdoc-mock-"))
        self.files = self.mock.start_tls(host, port, directory=self._directory / "trusted")

    def stop(self) -> None:
        """Stop the mock, close adapters, remove the certificates."""
        for adapter in self._adapters:
            adapter.close()
        self._adapters.clear()
        self._read_back.forget()
        self.mock.stop()
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    @property
    def base_url(self) -> str:
        """The mock's ``{base}`` (HTTPS)."""
        return self.mock.base_url

    def _files(self, valid_credentials: bool) -> tuple[certs.CertificateFiles, Path]:
        """The client's certificate set, and the CA that signed the mock's certificate."""
        if self.files is None or self._directory is None:
            raise RuntimeError("the harness is not started")
        if valid_credentials:
            return self.files, self.files.ca
        return certs.write_set(self._directory / "rogue"), self.files.ca

    def settings(self, *, valid_credentials: bool = True) -> AdapterSettings:
        """The mock's URL and the certificate files; with ``valid_credentials=False`` the
        client certificate is signed by a CA the mock does not trust."""
        client, ca = self._files(valid_credentials)
        return AdapterSettings(base_url=self.mock.base_url, client_cert=client.client_cert,
                               client_key=client.client_key, ca=ca)

    def adapter(self, *, valid_credentials: bool = True, policy: CallPolicy | None = None
                ) -> EpjAdapter:
        """An adapter with the mock's client certificate (or a rogue one)."""
        client, ca = self._files(valid_credentials)
        adapter = CosDocAdapter(self.mock.base_url, client_cert=client.client_cert,
                                client_key=client.client_key, ca=ca, policy=policy)
        self._adapters.append(adapter)
        return adapter

    def open_service(self) -> str:
        """Hjemmesykepleie."""
        return HSP

    def second_open_service(self) -> str:
        """Praktisk bistand."""
        return PB

    def seed_citizens(self, count: int) -> list[str]:
        """New patients with both open services, digitally active."""
        made: list[str] = []
        while len(made) < count:
            national_id = seed.national_id(self._rng, d_number=self._rng.random() < 0.1)
            if self.mock.store.patient_by_national_id(national_id) is not None:
                continue
            name = f"{self._rng.choice(seed.GIVEN)} {self._rng.choice(seed.FAMILY)}"
            self.mock.store.add_patient(national_id, name, [101, 102], digital=True)
            made.append(national_id)
        return made

    def _nr(self, citizen_id: str) -> int:
        patient = self.mock.store.patient_by_national_id(citizen_id)
        if patient is None:
            raise LookupError("CosDoc does not know the patient: seed_citizens first")
        return patient.nr

    def _visit(self, citizen_id: str, start: datetime, end: datetime, text: str
               ) -> ExpectedVisit:
        store = self.mock.store
        local_start, local_end = to_oslo(start), to_oslo(end)
        nr = store.add_avtale(Avtale(
            nr=store.next_avtale_nr(), pasient_nr=self._nr(citizen_id), tjeneste_id=101,
            status="T", dato=local_start.date(), fra_kl=local_start.strftime("%H:%M"),
            til_kl=local_end.strftime("%H:%M"), ansatt="Kari Sykepleier", tekst=text,
        ))
        return ExpectedVisit(uid=str(nr), start=expressible(start), end=expressible(end))

    def seed_visits(self, citizen_id: str, count: int, start: datetime) -> list[ExpectedVisit]:
        """``count`` assigned half-hour visits, one an hour from ``start``."""
        return [self._visit(citizen_id, start + timedelta(hours=k),
                            start + timedelta(hours=k, minutes=30), "Tilsyn")
                for k in range(count)]

    def seed_dst_visits(self, citizen_id: str) -> list[ExpectedVisit]:
        """Visits in both passes of 02:00-03:00 on 2026-10-25 (the second expected as the
        first, which is all CosDoc can say) and on both sides of, and across, the spring gap
        of 2026-03-29."""
        autumn_first = datetime(2026, 10, 25, 2, 0, tzinfo=OSLO)
        autumn_second = datetime(2026, 10, 25, 2, 30, tzinfo=OSLO, fold=1)
        spring = datetime(2026, 3, 29, 1, 15, tzinfo=OSLO)
        visits = [
            (autumn_first, autumn_first + timedelta(minutes=30), "Første gang klokka er 02"),
            (autumn_second, autumn_second + timedelta(minutes=20), "Andre gang klokka er 02"),
            (spring, spring + timedelta(minutes=30), "Før sommertid"),
            (spring + timedelta(minutes=30), spring + timedelta(minutes=90), "Over skiftet"),
            (datetime(2026, 3, 29, 3, 0, tzinfo=OSLO), datetime(2026, 3, 29, 3, 45, tzinfo=OSLO),
             "Etter skiftet"),
        ]
        return [self._visit(citizen_id, s, e, text) for s, e, text in visits]

    def seed_visit(self, citizen_id: str, *, status: AppointmentStatus, start: datetime,
                   end: datetime, service_code: str | None = None, employees: Sequence[str] = (),
                   text: str | None = None, cancelled_by: CancellationReason | None = None,
                   done_at: datetime | None = None, announce: bool = True) -> str:
        """One Avtale in any Status (its Nr returned); logged AVTALE (BESOK_UTFORT if done)."""
        nr = self._nr(citizen_id)
        if not start <= end < start + timedelta(days=1):
            raise ValueError("CosDoc holds a visit of less than a day, ending after it starts")
        wanted = levers.seeded_visit(
            "new", status=status, start=start, end=end,
            service_code=self._service(service_code or self.open_service()),
            employees=employees, text=text, cancelled_by=cancelled_by, done_at=done_at)
        (number,) = self.mock.store.add_appointment(nr, wanted, announce=announce)
        return str(number)

    def seed_planned_series(self, citizen_id: str, *, service_code: str, start: datetime,
                            end: datetime, frequency: Frequency, by_day: Sequence[Weekday] = (),
                            interval: int = 1, until: date | None = None,
                            paused: Sequence[datetime] = (), text: str | None = None,
                            announce: bool = True) -> str:
        """Each occurrence an Avtale with Gjentas J (paused ones not stored); the first's Nr."""
        nr = self._nr(citizen_id)
        recurrence = levers.planned_series(frequency=frequency, start=start, by_day=by_day,
                                           interval=interval, until=until, paused=paused)
        numbers = self.mock.store.add_appointment(nr, Appointment(
            uid="series", status=AppointmentStatus.PLANNED, start=start, end=end,
            service_id=self._service(service_code), recurrence=recurrence, description=text,
        ), announce=announce)
        self._series[str(numbers[0])] = numbers
        return str(numbers[0])

    def expected_planned(self, citizen_id: str, uid: str) -> list[Appointment]:
        """One planned appointment per stored occurrence, without recurrence (CosDoc sends
        no rule), at the times CosDoc can express."""
        if uid not in self._series:
            raise LookupError("seed_planned_series did not make that uid")
        nr = self._nr(citizen_id)
        store = self.mock.store
        expected = []
        with store.lock:
            for number in self._series[uid]:
                avtale = store.avtaler[number]
                if avtale.pasient_nr != nr:
                    raise LookupError("the series is another citizen's")
                start, end = avtale.span()
                expected.append(Appointment(
                    uid=str(number), status=AppointmentStatus.PLANNED, start=start, end=end,
                    service_id=str(avtale.tjeneste_id),
                    service_name=store.tjenester[avtale.tjeneste_id].navn,
                    description=avtale.tekst or None))
        return expected

    def visits(self, citizen_id: str) -> list[Appointment]:
        """AVTALER over every appointment CosDoc holds for the patient."""
        nr = self._nr(citizen_id)
        with self.mock.store.lock:
            held = [a.span() for a in self.mock.store.avtaler.values() if a.pasient_nr == nr]
        return self._read_back.visits(citizen_id, held)

    def _service(self, code: str) -> str:
        if not code.isdigit() or int(code) not in self.mock.store.tjenester:
            raise LookupError("CosDoc has no service with that TjenesteId")
        return code

    def _owned(self, citizen_id: str, uid: str) -> int:
        nr = self._nr(citizen_id)
        avtale = self.mock.store.avtaler.get(int(uid)) if uid.isdigit() else None
        if avtale is None or avtale.pasient_nr != nr:
            raise LookupError("CosDoc holds no such appointment for the patient")
        return avtale.nr

    def change_visit(self, citizen_id: str, uid: str, *, start: datetime, end: datetime
                     ) -> None:
        """Staff move the appointment (Dato, FraKl, TilKl); logged AVTALE."""
        self.mock.store.move(self._owned(citizen_id, uid), start, end)

    def cancel_visit(self, citizen_id: str, uid: str, *,
                     reason: CancellationReason = CancellationReason.BY_SERVICE) -> None:
        """Staff cancel the appointment (Status A, AvlystAv T, or P for the patient's
        reasons); logged AVTALE."""
        self.mock.store.cancel(self._owned(citizen_id, uid),
                               CANCELLED_BY[CancellationReason(reason)])

    def complete_visit(self, citizen_id: str, uid: str) -> None:
        """Staff register the visit done (BESOK_UTFORT)."""
        self.mock.store.complete(int(uid))

    def write_staff_message(self, citizen_id: str, text: str, *,
                            service_code: str | None = None, subject: str | None = None,
                            thread_id: str | None = None, in_reply_to: str | None = None,
                            interim: bool = False, kind: str | None = None) -> str:
        """Staff write to the citizen (MELDING; TradId and SvarPaMeldingId are our ids);
        returns the MeldingId."""
        return self.mock.store.write_message(
            self._nr(citizen_id), text, subject=subject or "Fra hjemmetjenesten",
            tjeneste_id=None if service_code is None else int(service_code),
            trad_id=thread_id, svar_pa=in_reply_to, midlertidig=interim,
            melding_type=None if kind is None else MELDING_TYPES[kind])

    def decide_cancellations(self, accept: bool) -> None:
        """Staff decide every pending cancellation (AVBESTILLING_SVAR)."""
        self.mock.store.decide(accept, comment=None if accept else "Besøket er nødvendig")

    def decide_cancellation(self, request_id: str, accept: bool, comment: str | None = None
                            ) -> None:
        """Staff decide the AVBESTILL under our EksternId; one AVBESTILLING_SVAR."""
        store = self.mock.store
        with store.lock:
            request = store.avbestillinger.get(request_id)
            if request is None:
                raise LookupError("CosDoc holds no cancellation under that EksternId")
            if not request.decided:
                store.decide_request(request, accept, comment)

    def delivered(self, message_id: str) -> list[str]:
        """Texts stored under EksternId ``message_id``."""
        stored = self.mock.store.sendt.get(message_id)
        return [] if stored is None else [str(stored.fields["Tekst"])]

    def delivered_messages(self) -> list[DeliveredMessage]:
        """Every message SEND_MELDING stored, in the order CosDoc received them."""
        with self.mock.store.lock:
            return [_delivered(m, self.mock.store.pasienter[m.pasient_nr].fodselsnummer)
                    for m in self.mock.store.sendt.values()]

    def cancellations(self, request_id: str) -> int:
        """Cancellations stored under EksternId ``request_id``."""
        return 1 if request_id in self.mock.store.avbestillinger else 0

    def digitally_active(self, citizen_id: str) -> bool:
        """The Digital flag CosDoc holds."""
        patient = self.mock.store.patient_by_national_id(citizen_id)
        return patient is not None and patient.digital


def _delivered(message: Innsendt, citizen_id: str) -> DeliveredMessage:
    fields = message.fields
    proxy = fields.get("PaVegneAv")
    proxy_fields = proxy if isinstance(proxy, dict) else {}

    def text(name: str) -> str | None:
        value = fields.get(name)
        return value if isinstance(value, str) and value else None

    return DeliveredMessage(
        message_id=message.ekstern_id, thread_id=text("TradId"), in_reply_to=text("SvarPa"),
        citizen_id=citizen_id, service_code=text("TjenesteId") or "", subject=text("Emne"),
        text=text("Tekst") or "", on_behalf_of_id=proxy_fields.get("Fodselsnummer"),
        on_behalf_of_name=proxy_fields.get("Navn"), epj_reference=message.ref,
    )
