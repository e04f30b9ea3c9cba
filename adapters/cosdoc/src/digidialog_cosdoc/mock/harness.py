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
instant comes back exactly.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from digidialog.adapters.contract import EpjAdapter
from digidialog.adapters.registry import AdapterSettings
from digidialog.adapters.soap import CallPolicy
from digidialog.domain.timezone import OSLO, to_oslo
from digidialog.errors import DigidialogError, InvalidRequest, VendorRejected
from digidialog.testing import seed
from digidialog.testing.harness import DeliveredMessage, ExpectedVisit
from digidialog_cosdoc.adapter import CosDocAdapter
from digidialog_cosdoc.localtime import wall_clock_instant
from digidialog_cosdoc.mock import certs
from digidialog_cosdoc.mock.server import CosDocMock
from digidialog_cosdoc.mock.state import Avtale, Innsendt

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

    def __init__(self, *, seed_citizens: int = 3, first_day: date | None = None) -> None:
        """A mock with ``seed_citizens`` seeded patients, their visits around ``first_day``."""
        self.mock = CosDocMock(seed_citizens=seed_citizens, first_day=first_day)
        self._rng = random.Random(2026)  # noqa: S311 - test data
        self._directory: Path | None = None
        self.files: certs.CertificateFiles | None = None
        self._adapters: list[CosDocAdapter] = []

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
            raise ValueError("seed the citizen first")
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
