"""The adapter contract: what the sync engine needs from an EPJ, whoever made it.

An adapter hides one vendor's SOAP dialect (paging, change feed or push,
local time, Latin-1 documents, internal patient numbers, per-visit
cancellation, at-least-once outboxes, authentication) behind
:class:`EpjAdapter`. The engine never knows which vendor it talks to.

Conventions every adapter keeps:

- service codes are the EPJ's own codes; digidialog uses them as the
  ``TjenesteId`` towards Helsenorge, so ``Appointment.service_id`` and
  ``CancellationRequest.service_ids`` hold vendor service codes;
- every write carries our id and is idempotent on it: sending the same
  message or cancellation twice has one effect and returns the first answer;
- errors are :mod:`digidialog.errors` classes: retriable (back off and try
  again, honouring ``retry_after``) or final; a broken or hostile vendor
  answer is a :class:`MalformedReply`; nothing from zeep, lxml or requests
  leaks out;
- every call has a timeout.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from pydantic import Field

from digidialog.domain import Appointment, CancellationRequest, Frozen, NationalId, OnBehalfOf
from digidialog.domain.events import EpjEvent
from digidialog.domain.timezone import AwareDatetime

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class VendorService(Frozen):
    """A service as the EPJ lists it."""

    code: str = Field(min_length=1)
    name: str
    open_for_dialog: bool


class CitizenRecord(Frozen):
    """A citizen receiving services, as the EPJ knows them."""

    national_id: NationalId
    name: str
    service_codes: tuple[str, ...]
    digitally_active: bool


class DigitalStatusUpdate(Frozen):
    """Tell the EPJ a citizen is (or is no longer) a digitally active Helsenorge user."""

    national_id: NationalId
    active: bool
    since: date


class CitizenMessage(Frozen):
    """A citizen's (or proxy's) message to deliver into the EPJ."""

    message_id: str = Field(min_length=1, description="our id (the MsgId): idempotency key")
    thread_id: str = Field(min_length=1)
    in_reply_to: str | None = None
    service_code: str
    citizen_id: NationalId
    subject: str | None = None
    body: str
    sent_at: AwareDatetime
    on_behalf_of: OnBehalfOf | None = None


class EpjReceipt(Frozen):
    """The EPJ took a write; its own reference for it, if it gave one.

    Not to be confused with :class:`digidialog.domain.ApplicationReceipt`, an AppRec.
    """

    accepted: bool = True
    epj_reference: str | None = None


class ChangeBatch(Frozen):
    """Events since a checkpoint, and the checkpoint to resume from after them."""

    events: tuple[EpjEvent, ...] = ()
    checkpoint: str | None = Field(
        default=None, description="opaque; store it only after the events are stored"
    )
    more: bool = Field(default=False, description="more events are waiting right now")


class ChangeSource(StrEnum):
    """How an EPJ tells us what changed."""

    POLL = "poll"  # we read a change feed from a checkpoint
    PUSH = "push"  # it calls an endpoint we host; we read what was stored


class PeriodCancellation(StrEnum):
    """Whether the EPJ cancels a period itself or visit by visit."""

    NATIVE = "native"
    EXPANDED = "expanded"


class Authentication(StrEnum):
    """How the adapter proves who it is."""

    WS_SECURITY = "ws-security"
    HTTP_BASIC = "http-basic"
    MUTUAL_TLS = "mutual-tls"


class Capabilities(Frozen):
    """What an adapter can do and how, for the engine and for operators."""

    vendor: str
    change_source: ChangeSource
    period_cancellation: PeriodCancellation
    authentication: Authentication
    soap_version: str = Field(pattern=r"^1\.[12]$")
    max_page_size: int | None = None
    local_times: bool = Field(default=False, description="the EPJ speaks Oslo wall-clock time")


@runtime_checkable
class EpjAdapter(Protocol):
    """What the sync engine needs from an EPJ."""

    @property
    def capabilities(self) -> Capabilities:
        """What this adapter can do."""
        ...

    def services(self) -> list[VendorService]:
        """Every service the EPJ offers, with whether it is open for digital dialog."""
        ...

    def citizens(self, service_code: str | None = None) -> Iterator[CitizenRecord]:
        """Everyone receiving services (or one service), with digital status; all pages."""
        ...

    def set_digital_status(self, updates: Sequence[DigitalStatusUpdate]) -> int:
        """Record who is digitally active; returns how many the EPJ updated."""
        ...

    def appointments(
        self, citizen_id: str, start: datetime, end: datetime
    ) -> list[Appointment]:
        """A citizen's appointments overlapping ``[start, end)``, every page read."""
        ...

    def changes(self, checkpoint: str | None, limit: int = 500) -> ChangeBatch:
        """What changed after ``checkpoint`` (``None``: from the beginning)."""
        ...

    def acknowledge(self, batch: ChangeBatch) -> None:
        """Tell the EPJ the batch is stored durably (outboxes that need an ack)."""
        ...

    def deliver_message(self, message: CitizenMessage) -> EpjReceipt:
        """Put a citizen's message into the EPJ; idempotent on ``message_id``."""
        ...

    def register_cancellation(self, request: CancellationRequest) -> EpjReceipt:
        """Register a cancellation, single or period; idempotent on ``request_id``.

        The decision arrives later as a ``CancellationDecided`` event.
        """
        ...

    def push_endpoint(self) -> WSGIApplication | None:
        """The WSGI application the EPJ pushes its events to, for the daemon to host
        under ``/epj/<municipality her_id>/``; ``None`` for an EPJ that is polled."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
