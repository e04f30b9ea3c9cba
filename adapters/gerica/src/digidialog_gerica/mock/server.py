"""GericaMock: a stateful fake of Gerica's InnbyggerDialog v2, following vendors.md exactly.

``POST {base}/InnbyggerDialog`` with ``Content-Type: text/xml`` and
``SOAPAction: "urn:gerica:innbyggerdialog:v2/<Operation>"``. Each request is
checked as Gerica would: SOAP 1.1 envelope (``VersionMismatch`` otherwise),
WS-Security UsernameToken with a PasswordText password (``IKKE_AUTORISERT``
otherwise), a body matching the SOAPAction, and the body valid against the
project's XSD (a ``soap:Client`` fault without GericaFeil otherwise): see
:mod:`.checks`. Answers and faults come from :mod:`.render`; the
state and its rules live in :mod:`.state`. Every exchange is kept (the last 500) for tests.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lxml import etree
from werkzeug.wrappers import Request, Response

from digidialog.domain import Appointment
from digidialog.testing import seed
from digidialog.testing.mockbase import Fault, MockEpj
from digidialog_gerica.mock import render
from digidialog_gerica.mock.checks import read_request
from digidialog_gerica.mock.records import (
    Cancellation,
    Citizen,
    CitizenMessage,
    GericaFault,
    Person,
    Service,
)
from digidialog_gerica.mock.seed import visit_from_appointment
from digidialog_gerica.mock.state import GericaState
from digidialog_gerica.wire import (
    NAMESPACE,
    NS,
    SERVICE_PATH,
    FaultCode,
    Operation,
)


@dataclass(frozen=True)
class Exchange:
    """One request and the answer the mock gave, as they were on the wire."""

    operation: str
    request: bytes
    request_headers: dict[str, str]
    reply: bytes
    reply_headers: dict[str, str]
    status: int


def _text(parent: etree._Element, name: str) -> str | None:
    return parent.findtext(NS + name)


def _instant(parent: etree._Element, name: str) -> datetime:
    # The request was validated against the XSD: an offset is present.
    return datetime.fromisoformat((_text(parent, name) or "").strip())


def _person(parent: etree._Element, name: str) -> Person | None:
    element = parent.find(NS + name)
    if element is None:
        return None
    return Person(_text(element, "Fodselsnummer") or "", _text(element, "Navn") or "")


class GericaMock(MockEpj):
    """A stateful Gerica, seeded with realistic citizens, services and visits."""

    vendor = "gerica"
    service_path = SERVICE_PATH

    def __init__(
        self,
        *,
        seed_citizens: int = 20,
        username: str = "digidialog",
        password: str = "digidialog",  # noqa: S107 - the mock's documented default
        clock: Callable[[], datetime] | None = None,
        first_day: date | None = None,
    ) -> None:
        """A mock holding the seed services and ``seed_citizens`` seeded citizens."""
        super().__init__(username, password)
        self.state = GericaState() if clock is None else GericaState(clock=clock)
        self.exchanges: deque[Exchange] = deque(maxlen=500)
        for service in seed.SERVICES:
            self.state.services[service.code] = Service(
                service.code, service.name, service.open_for_dialog)
        for citizen in seed.citizens(seed_citizens, first_day=first_day):
            self.add_citizen(citizen.national_id, citizen.full_name, citizen.service_codes,
                             digital=citizen.digitally_active)
            for visit in citizen.visits:
                self.add_appointment(citizen.national_id, visit)

    # ------------------------------------------------------------------ MockEpj

    def operation_of(self, request: Request) -> str:
        """The operation named by SOAPAction (quotes and namespace stripped)."""
        action = request.headers.get("SOAPAction", "").strip().strip('"')
        prefix = NAMESPACE + "/"
        return action[len(prefix):] if action.startswith(prefix) else (action or "unknown")

    def content_type(self) -> str:
        """``text/xml; charset=utf-8``."""
        return render.CONTENT_TYPE

    def busy_response(self, fault: Fault) -> Response:
        """MIDLERTIDIG_UTILGJENGELIG as a soap:Server fault on HTTP 500 (no Retry-After)."""
        return self._fault(GericaFault(FaultCode.MIDLERTIDIG_UTILGJENGELIG,
                                       "Gerica er midlertidig utilgjengelig", faultcode="Server"))

    def fault_response(self, code: str, message: str) -> Response:
        """A GericaFeil fault with ``code`` (soap:Server only for the retriable one)."""
        server = code == FaultCode.MIDLERTIDIG_UTILGJENGELIG
        return Response(render.fault(code, message, faultcode="Server" if server else "Client"),
                        status=500, content_type=render.CONTENT_TYPE)

    def handle(self, request: Request, operation: str) -> Response:
        """Answer one request as Gerica would, and keep the exchange."""
        body = request.get_data()
        try:
            wrapper = read_request(request, operation, body, self.username, self.password)
            response = Response(render.envelope(self._answer(operation, wrapper)), status=200,
                                content_type=render.CONTENT_TYPE)
        except GericaFault as fault:
            response = self._fault(fault)
        self.exchanges.append(Exchange(operation, body, dict(request.headers), response.get_data(),
                                       dict(response.headers), response.status_code))
        return response

    def _fault(self, fault: GericaFault) -> Response:
        return Response(render.fault(fault.code, fault.description, faultcode=fault.faultcode),
                        status=500, content_type=render.CONTENT_TYPE)

    # ------------------------------------------------------------------ answering

    def _answer(self, operation: str, wrapper: etree._Element) -> etree._Element:
        handlers: dict[str, Callable[[etree._Element], etree._Element]] = {
            Operation.HENT_TJENESTER: self._hent_tjenester,
            Operation.HENT_MOTTAKERE: self._hent_mottakere,
            Operation.OPPDATER_DIGITAL_STATUS: self._oppdater_digital_status,
            Operation.HENT_AVTALER: self._hent_avtaler,
            Operation.HENT_ENDRINGER: self._hent_endringer,
            Operation.LEVER_MELDING: self._lever_melding,
            Operation.REGISTRER_AVBESTILLING: self._registrer_avbestilling,
        }
        return handlers[operation](wrapper)

    def _hent_tjenester(self, _request: etree._Element) -> etree._Element:
        svar = render.answer(Operation.HENT_TJENESTER)
        for service in self.state.services.values():
            render.tjeneste(svar, service)
        return svar

    def _hent_mottakere(self, request: etree._Element) -> etree._Element:
        code = _text(request, "TjenesteKode")
        svar = render.answer(Operation.HENT_MOTTAKERE)
        for citizen in self.state.citizens.values():
            if code is None or code in citizen.service_codes:
                render.mottaker(svar, citizen)
        return svar

    def _oppdater_digital_status(self, request: etree._Element) -> etree._Element:
        updated = 0
        for status in request.iterchildren(NS + "Status"):
            updated += self.state.set_status(
                _text(status, "Fodselsnummer") or "",
                (_text(status, "DigitalAktiv") or "").strip() in ("true", "1"),
                date.fromisoformat((_text(status, "Fra") or "").strip()),
            )
        svar = render.answer(Operation.OPPDATER_DIGITAL_STATUS)
        render.add(svar, "AntallOppdatert", str(updated))
        return svar

    def _hent_avtaler(self, request: etree._Element) -> etree._Element:
        visits = self.state.visits_between(
            _text(request, "Fodselsnummer") or "", _instant(request, "Fra"),
            _instant(request, "Til"))
        page = int(_text(request, "Side") or "1")
        size = int(_text(request, "SideStorrelse") or "1")
        svar = render.answer(Operation.HENT_AVTALER)
        for visit in visits[(page - 1) * size : page * size]:
            render.avtale(svar, visit)
        render.add(svar, "Side", str(page))
        render.add(svar, "AntallSider", str(max(1, -(-len(visits) // size))))
        return svar

    def _hent_endringer(self, request: etree._Element) -> etree._Element:
        changes, head = self.state.changes_after(int(_text(request, "EtterSekvens") or "0"),
                                                 int(_text(request, "Maks") or "1"))
        svar = render.answer(Operation.HENT_ENDRINGER)
        for change in changes:
            render.endring(svar, change)
        render.add(svar, "SisteSekvens", str(head))
        return svar

    def _lever_melding(self, request: etree._Element) -> etree._Element:
        melding = request.find(NS + "Melding")
        assert melding is not None  # noqa: S101 - the XSD requires it
        stored = self.state.deliver(CitizenMessage(
            melding_id=_text(melding, "MeldingId") or "",
            thread_id=_text(melding, "TradId") or "",
            reply_to=_text(melding, "SvarPaMeldingId"),
            service_code=_text(melding, "TjenesteKode") or "",
            citizen_id=_text(melding, "Fodselsnummer") or "",
            subject=_text(melding, "Emne") or "",
            text=_text(melding, "Tekst") or "",
            sent=_instant(melding, "Sendt"),
            on_behalf_of=_person(melding, "PaVegneAv"),
            reference="",
        ))
        return render.kvittering(Operation.LEVER_MELDING, stored.reference)

    def _registrer_avbestilling(self, request: etree._Element) -> etree._Element:
        avbestilling = request.find(NS + "Avbestilling")
        assert avbestilling is not None  # noqa: S101 - the XSD requires it
        periode = avbestilling.find(NS + "Periode")
        stored = self.state.register(Cancellation(
            request_id=_text(avbestilling, "AvbestillingId") or "",
            citizen_id=_text(avbestilling, "Fodselsnummer") or "",
            visit_id=_text(avbestilling, "AvtaleId"),
            period=None if periode is None else (_instant(periode, "Fra"),
                                                 _instant(periode, "Til")),
            service_codes=tuple(c.text or "" for c in
                                avbestilling.iterchildren(NS + "TjenesteKode")),
            reason=_text(avbestilling, "Begrunnelse"),
            submitted_by=_person(avbestilling, "InnsendtAv"),
            reference="",
        ))
        return render.kvittering(Operation.REGISTRER_AVBESTILLING, stored.reference)

    # ------------------------------------------------------------------ levers for tests and demos

    def add_citizen(self, national_id: str, name: str, service_codes: list[str], *,
                    digital: bool = False) -> None:
        """Gerica starts serving a citizen."""
        with self._lock:
            self.state.citizens[national_id] = Citizen(national_id, name, list(service_codes),
                                                       digital)

    def add_appointment(self, citizen_id: str, appointment: Appointment, *,
                        announce: bool = False) -> None:
        """Gerica holds a visit (a domain Appointment, stored in Gerica's shape); with
        ``announce``, the feed records it as a new Avtale, as a visit staff put in would be."""
        with self._lock:
            visit = visit_from_appointment(citizen_id, appointment, self.state.clock())
            self.state.visits[visit.avtale_id] = visit
            if announce:
                self.state.record("AVTALE", visit)

    def complete_visit(self, avtale_id: str, employee: str | None = None) -> None:
        """Staff register a visit done; the feed records it."""
        with self._lock:
            self.state.complete_visit(avtale_id, employee)

    def change_visit(self, avtale_id: str, **changes: object) -> None:
        """Staff change a visit; the feed records it."""
        with self._lock:
            self.state.change_visit(avtale_id, **changes)

    def write_staff_message(self, citizen_id: str, text: str, **options: Any) -> str:
        """Staff write to the citizen; the feed records it. Returns the MeldingId."""
        with self._lock:
            return self.state.write_staff_message(citizen_id, text, **options).melding_id

    def decide_cancellations(self, accept: bool, comment: str | None = None) -> None:
        """Staff decide every pending cancellation; the feed records each decision."""
        with self._lock:
            self.state.decide_cancellations(accept, comment)

    def decide_cancellation(self, request_id: str, accept: bool, comment: str | None = None
                            ) -> None:
        """Staff decide the cancellation under one AvbestillingId (nothing if decided before;
        KeyError if Gerica never got it); the feed records the decision."""
        with self._lock:
            self.state.decide_cancellation(request_id, accept, comment)

    def delivered_texts(self, message_id: str) -> list[str]:
        """The texts Gerica stored under a MeldingId (at most one, being idempotent)."""
        with self._lock:
            found = self.state.delivered.get(message_id)
            return [] if found is None else [found.text]

    def delivered_messages(self) -> list[CitizenMessage]:
        """Every message Gerica stored by LeverMelding, in the order it received them."""
        with self._lock:
            return list(self.state.delivered.values())

    def cancellation_count(self, request_id: str) -> int:
        """How many cancellations Gerica holds under an AvbestillingId."""
        with self._lock:
            return int(request_id in self.state.cancellations)

    def digitally_active(self, citizen_id: str) -> bool:
        """The digital status Gerica holds."""
        with self._lock:
            return self.state.citizen(citizen_id).digital
