"""GericaAdapter: digidialog's EPJ contract over Gerica's InnbyggerDialog v2 (SOAP 1.1).

Requests are built by zeep from the project's WSDL (with the WS-Security
UsernameToken header) and sent by the shared :class:`SoapEndpoint`, which
limits, parses and retries; answers are mapped to the domain straight from
the lxml tree (:mod:`.mapping`, :mod:`.appointments`, :mod:`.feed`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any

import requests
from lxml import etree
from zeep.wsse.username import UsernameToken

from digidialog import log
from digidialog.adapters.contract import (
    Authentication,
    Capabilities,
    ChangeBatch,
    ChangeSource,
    CitizenMessage,
    CitizenRecord,
    DigitalStatusUpdate,
    EpjReceipt,
    PeriodCancellation,
    VendorService,
)
from digidialog.adapters.soap import (
    CallPolicy,
    SoapEndpoint,
    SoapVersion,
    load_client,
    new_session,
)
from digidialog.domain import Appointment, CancellationRequest
from digidialog.errors import MalformedReply
from digidialog_gerica import mapping, outgoing
from digidialog_gerica.faults import map_fault
from digidialog_gerica.feed import event_id, read_feed
from digidialog_gerica.wire import (
    MAX_PAGE_SIZE,
    NS,
    SERVICE_PATH,
    Operation,
    parse_boolean,
    parse_integer,
    soap_action,
    wsdl_file,
)

MAX_PAGES = 10_000
"""A page count no honest answer reaches: stops a Gerica that keeps saying "more"."""

STATUS_BATCH = 500
"""Citizens per OppdaterDigitalStatus call; the contract sets no limit, so stay moderate."""

REMEMBERED = 100_000
"""How many cancellations and visits the adapter remembers the citizen of."""

CAPABILITIES = Capabilities(
    vendor="gerica",
    change_source=ChangeSource.POLL,
    period_cancellation=PeriodCancellation.NATIVE,
    authentication=Authentication.WS_SECURITY,
    soap_version="1.1",
    max_page_size=MAX_PAGE_SIZE,
    local_times=False,
)

_logger = log.get_logger("gerica")


class _Remembered(OrderedDict[str, str]):
    """A bounded map (oldest forgotten first) of ids to the citizen they concern."""

    def remember(self, key: str, citizen_id: str) -> None:
        self[key] = citizen_id
        self.move_to_end(key)
        while len(self) > REMEMBERED:
            self.popitem(last=False)


class GericaAdapter:
    """The EPJ contract for Gerica."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        policy: CallPolicy | None = None,
        page_size: int = MAX_PAGE_SIZE,
        session: requests.Session | None = None,
        cancellation_owner: Callable[[str], str | None] | None = None,
    ) -> None:
        """Talk to the Gerica at ``base_url`` (the contract's ``{base}``).

        ``cancellation_owner`` lets the sync engine say whose a cancellation was
        (from its store), for decisions of cancellations this adapter did not
        register itself, e.g. before a restart: Gerica's Avbestillingssvar does
        not name the citizen.
        """
        self._session = session or new_session()
        client = load_client(wsdl_file(), wsse=UsernameToken(username, password))
        self._endpoint = SoapEndpoint(
            client,
            base_url.rstrip("/") + SERVICE_PATH,
            self._session,
            version=SoapVersion.V11,
            action=soap_action,
            fault_mapper=map_fault,
            policy=policy,
        )
        self._page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self._owner = cancellation_owner
        self._service_names: dict[str, str] | None = None
        self._cancellations = _Remembered()
        self._visits = _Remembered()

    @property
    def capabilities(self) -> Capabilities:
        """Polling change feed, native period cancellation, WS-Security, SOAP 1.1."""
        return CAPABILITIES

    def _call(self, operation: Operation, **params: Any) -> etree._Element:
        return mapping.expect(self._endpoint.call(operation.value, **params), operation.reply_tag)

    # ------------------------------------------------------------------ reads

    def services(self) -> list[VendorService]:
        """HentTjenester: every service and whether it is open for digital dialog."""
        services = mapping.read_services(self._call(Operation.HENT_TJENESTER))
        self._service_names = {s.code: s.name for s in services}
        return services

    def citizens(self, service_code: str | None = None) -> Iterator[CitizenRecord]:
        """HentMottakere: everyone receiving services (Gerica answers in one page).

        A citizen whose record cannot be used (a national id with wrong check
        digits, say) is skipped and counted in a warning, not allowed to stop
        the others.
        """
        svar = self._call(Operation.HENT_MOTTAKERE, TjenesteKode=service_code)
        records: list[CitizenRecord] = []
        skipped = 0
        for record in mapping.read_citizens(svar):
            if isinstance(record, MalformedReply):
                skipped += 1
            else:
                records.append(record)
        if skipped:
            _logger.warning("gerica.citizens_skipped", skipped=skipped, kept=len(records))
        return iter(records)

    def set_digital_status(self, updates: Sequence[DigitalStatusUpdate]) -> int:
        """OppdaterDigitalStatus, in batches; how many citizens Gerica updated."""
        updated = 0
        for first in range(0, len(updates), STATUS_BATCH):
            batch = updates[first : first + STATUS_BATCH]
            svar = self._call(Operation.OPPDATER_DIGITAL_STATUS, **outgoing.digital_status(batch))
            text = next(svar.iterchildren(NS + "AntallOppdatert"), None)
            updated += parse_integer(None if text is None else text.text,
                                     "OppdaterDigitalStatusSvar/AntallOppdatert")
        return updated

    def appointments(self, citizen_id: str, start: datetime, end: datetime) -> list[Appointment]:
        """HentAvtaler, page by page to the last; visits overlapping ``[start, end)``."""
        names = self._names()
        found: dict[str, Appointment] = {}
        page = 1
        while True:
            svar = self._call(Operation.HENT_AVTALER, **outgoing.appointments(
                citizen_id, start, end, page, self._page_size))
            appointments, number, pages = mapping.read_appointments_page(
                svar, names, citizen_id=citizen_id)
            if number != page:
                raise MalformedReply(f"Gerica answered page {number} when asked for page {page}")
            for appointment in appointments:
                # A visit moved between pages while we read shows up twice; keep the later.
                found[appointment.uid] = appointment
            if page >= pages:
                return list(found.values())
            page += 1
            if page > MAX_PAGES:
                raise MalformedReply(f"Gerica claims more than {MAX_PAGES} pages of visits")

    def _names(self) -> dict[str, str]:
        # Avtale carries only TjenesteKode; the portal shows the service's name.
        if self._service_names is None:
            self.services()
        return self._service_names or {}

    # ------------------------------------------------------------------ change feed

    def changes(self, checkpoint: str | None, limit: int = 500) -> ChangeBatch:
        """HentEndringer after the checkpoint (a Sekvens); the new checkpoint is the last read."""
        after = outgoing.parse_checkpoint(checkpoint)
        params = outgoing.changes(after, limit)
        svar = self._call(Operation.HENT_ENDRINGER, **params)
        page = read_feed(svar, self._names(), self._citizen_of_cancellation,
                         self._visits.remember)
        if page.sequences and page.sequences[0] <= after:
            raise MalformedReply("Gerica answered with changes at or before the checkpoint")
        for sequence, reason in page.skipped:
            _logger.error("gerica.change_skipped", event_id=event_id(sequence), problem=reason)
        last = page.sequences[-1] if page.sequences else after
        more = bool(page.sequences) and (len(page.sequences) >= params["Maks"] or last < page.head)
        return ChangeBatch(events=tuple(page.events), checkpoint=str(last), more=more)

    def _citizen_of_cancellation(self, request_id: str, affected: tuple[str, ...]) -> str | None:
        known = self._cancellations.get(request_id)
        if known is None and self._owner is not None:
            known = self._owner(request_id)
        if known is None:
            known = next((self._visits[uid] for uid in affected if uid in self._visits), None)
        return known

    def acknowledge(self, batch: ChangeBatch) -> None:
        """Nothing to do: Gerica's feed is read from a checkpoint the engine stores."""

    # ------------------------------------------------------------------ writes

    def deliver_message(self, message: CitizenMessage) -> EpjReceipt:
        """LeverMelding; Gerica answers a repeated MeldingId with the first Kvittering."""
        return _receipt(self._call(Operation.LEVER_MELDING, **outgoing.message(message)))

    def register_cancellation(self, request: CancellationRequest) -> EpjReceipt:
        """RegistrerAvbestilling, single or period (Gerica cancels periods itself)."""
        self._cancellations.remember(request.request_id, request.citizen_id)
        return _receipt(self._call(Operation.REGISTRER_AVBESTILLING,
                                   **outgoing.cancellation(request)))

    def push_endpoint(self) -> None:
        """None: this EPJ is polled for its changes, it pushes nothing."""
        return None

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()


def _receipt(svar: etree._Element) -> EpjReceipt:
    kvittering = next(svar.iterchildren(NS + "Kvittering"), None)
    if kvittering is None:
        raise MalformedReply("Gerica answered without a Kvittering")
    values = mapping.children_text(kvittering, ("Mottatt", "EpjReferanse"))
    return EpjReceipt(
        accepted=parse_boolean(values["Mottatt"], "Kvittering/Mottatt"),
        epj_reference=values["EpjReferanse"] or None,
    )
