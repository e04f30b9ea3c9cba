"""The change feed: stored push events turned into domain events, from a checkpoint.

Profil's events carry ids only, so each is resolved when the feed first reaches
it: a visit event by ``GetVisit``, an outbox event by ``GetOutboxMessages``
(keeping only messages not delivered before, since the outbox repeats itself
until acked), a per-visit cancellation decision by adding it to the request it
belongs to and answering that request once, when its last visit is decided.
What an event became is stored with it in the same transaction as the
bookkeeping, so reading again from an older checkpoint gives the same events.

The checkpoint is the store's sequence number of the last event read.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from pydantic import TypeAdapter

from digidialog.adapters.contract import ChangeBatch
from digidialog.adapters.patience import Patience
from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationDecision,
    CancellationOutcome,
    combine_decisions,
)
from digidialog.domain.events import (
    AppointmentChanged,
    CancellationDecided,
    EpjEvent,
    StaffMessage,
    StaffMessageWritten,
    VisitCompleted,
)
from digidialog.errors import (
    BrokenReply,
    DigidialogError,
    InvalidRequest,
    MalformedReply,
    RetriableError,
    VendorRejected,
)
from digidialog.log import get_logger
from digidialog_profil.mapping import PushedEvent
from digidialog_profil.store import Answer, EventStore, StoredEvent
from digidialog_profil.wire import MAX_OUTBOX_COUNT, EventType

log = get_logger("profil.feed")

_EVENTS: TypeAdapter[list[EpjEvent]] = TypeAdapter(list[EpjEvent])
OUTBOX_FULL = "outbox_full"
PARK_AFTER = 5
"""Tries to read an event's details before a broken answer parks the event."""
LOCAL_PREFIX = "local:"
EMPTY_PERIOD_COMMENT = "Det er ingen besøk å avbestille i perioden."
"""The answer's comment when a period holds no visit of the chosen services."""


class VendorReader(Protocol):
    """The two reads the feed needs from Profil."""

    def visit(self, visit_id: int) -> tuple[Appointment, str] | None:
        """The visit and its owner's national id, or None when Profil no longer has it."""
        ...

    def outbox(self, max_count: int) -> list[StaffMessage]:
        """Unacknowledged outbox messages, oldest first, at most ``max_count``."""
        ...


def parse_checkpoint(checkpoint: str | None) -> int:
    """The sequence number a checkpoint stands for (``None``: before the first event)."""
    if checkpoint is None:
        return 0
    if not checkpoint.isascii() or not checkpoint.isdigit():
        raise InvalidRequest("the checkpoint was not issued by the Profil adapter")
    return int(checkpoint)


def local_check(store: EventStore, request_id: str, citizen_id: str) -> None:
    """Queue a check of a request decided without Profil (empty period, refused at once)."""
    store.add(PushedEvent(event_id=LOCAL_PREFIX + request_id, event_type=EventType.LOCAL_CHECK,
                          occurred_at=datetime.now(UTC), national_id=citizen_id))


def outbox_sweep(store: EventStore) -> None:
    """Queue one more outbox read (the last one was full, so more may be waiting)."""
    store.add(PushedEvent(event_id=f"sweep:{uuid.uuid4()}", event_type=EventType.OUTBOX_SWEEP,
                          occurred_at=datetime.now(UTC), national_id=""))


class Feed:
    """Reads the event store as a checkpointed feed of domain events."""

    def __init__(self, store: EventStore, reader: VendorReader,
                 outbox_batch: int = MAX_OUTBOX_COUNT, patience: Patience | None = None) -> None:
        self.store = store
        self.reader = reader
        self.outbox_batch = max(1, min(outbox_batch, MAX_OUTBOX_COUNT))
        self.patience = patience or Patience()

    def changes(self, checkpoint: str | None, limit: int) -> ChangeBatch:
        """Events after ``checkpoint``: at most ``limit`` unless one stored event alone makes more.

        When resolving an event fails in a way worth retrying, the events read so
        far are returned (``more`` set); with none read, the error is raised. A
        reply that cannot be read at all (:class:`BrokenReply`) is such a failure
        for as long as :class:`~digidialog.adapters.patience.Patience` allows. An
        event whose details Profil refuses (a final fault), whose record cannot be
        used :data:`PARK_AFTER` times, or whose replies stay broken past that
        patience, is parked: logged, and read as no events.
        """
        if limit < 1:
            raise InvalidRequest("limit must be at least 1")
        rows = self.store.after(parse_checkpoint(checkpoint), limit + 1)
        events: list[EpjEvent] = []
        last: int | None = None
        processed = 0
        for row in rows[:limit]:
            try:
                resolved = self._resolve(row, limit)
                self.patience.forget(str(row.seq))
            except BrokenReply as error:
                # Nothing is known of the record (a proxy truncating replies, an error
                # page): waited out like a network failure, for a while.
                if self.patience.still_waiting(str(row.seq)):
                    if processed == 0:
                        raise
                    break
                resolved = self._park(row, error)
            except (MalformedReply, VendorRejected) as error:
                # Details Profil refuses, or keeps answering broken, would hold up every
                # event behind this one: after a few tries the event is parked.
                if isinstance(error, MalformedReply) and self.store.failed(row.seq) < PARK_AFTER:
                    if processed == 0:
                        raise
                    break
                resolved = self._park(row, error)
            except RetriableError:
                if processed == 0:
                    raise
                break
            if events and len(events) + len(resolved) > limit:
                break
            events.extend(resolved)
            last = row.seq
            processed += 1
        more = processed < len(rows)
        if not more and any(isinstance(e, StaffMessageWritten) for e in events):
            # A full outbox read may have left messages behind; they are read once the
            # engine acknowledges these (see ProfilAdapter.acknowledge), so ask for more.
            more = self.store.flag(OUTBOX_FULL)
        return ChangeBatch(events=tuple(events),
                           checkpoint=checkpoint if last is None else str(last), more=more)

    # ------------------------------------------------------------ resolving one event

    def _resolve(self, row: StoredEvent, limit: int) -> list[EpjEvent]:
        cached = self.store.resolution(row.seq)
        if cached is not None:
            return _EVENTS.validate_json(cached)
        kind = row.event.event_type
        if kind in (EventType.VISIT_CHANGED, EventType.VISIT_DONE):
            events = self._visit_events(row.event)
            return self._commit(row.seq, lambda _db: events)
        if kind in (EventType.OUTBOX_MESSAGE, EventType.OUTBOX_SWEEP):
            return self._outbox_events(row, min(limit, self.outbox_batch))
        if kind is EventType.CANCELLATION_DECISION:
            return self._commit(row.seq, lambda db: self._decision_events(db, row))
        request_id = row.event.event_id.removeprefix(LOCAL_PREFIX)
        return self._commit(row.seq, lambda db: self._answered(
            EventStore.answers(db, [request_id], row.seq), row.event))

    def _park(self, row: StoredEvent, error: DigidialogError) -> list[EpjEvent]:
        log.warning("event_parked", event_id=row.event.event_id, seq=row.seq,
                    error=type(error).__name__)
        return self._commit(row.seq, lambda _db: [])

    def _commit(self, seq: int, build: Callable[[sqlite3.Connection], list[EpjEvent]]
                ) -> list[EpjEvent]:
        with self.store.transaction() as db:
            # Another process may have resolved it meanwhile; then its answer stands.
            existing = EventStore.resolution_in(db, seq)
            if existing is not None:
                return _EVENTS.validate_json(existing)
            events = build(db)
            EventStore.save_resolution(db, seq, _EVENTS.dump_json(events).decode())
        return events

    def _visit_events(self, event: PushedEvent) -> list[EpjEvent]:
        found = self.reader.visit(event.visit_id or 0)
        if found is None:
            log.info("visit_gone", event_id=event.event_id)
            return []
        appointment, owner = found
        if owner != event.national_id:
            # Profil's event and its visit disagree on whose visit it is: reporting it
            # could show one citizen another's calendar, so the event is parked.
            log.warning("visit_owner_mismatch", event_id=event.event_id)
            return []
        if event.event_type is EventType.VISIT_DONE and (
                appointment.status is AppointmentStatus.COMPLETED):
            return [VisitCompleted(event_id=event.event_id, occurred_at=event.occurred_at,
                                   citizen_id=owner, appointment=appointment)]
        return [AppointmentChanged(event_id=event.event_id, occurred_at=event.occurred_at,
                                   citizen_id=owner, appointment=appointment)]

    def _outbox_events(self, row: StoredEvent, max_count: int) -> list[EpjEvent]:
        messages = self.reader.outbox(max_count)

        def build(db: sqlite3.Connection) -> list[EpjEvent]:
            fresh = EventStore.claim_messages(
                db, row.seq, [int(m.vendor_message_id) for m in messages])
            return [
                StaffMessageWritten(event_id=f"profil-message-{m.vendor_message_id}",
                                    occurred_at=m.sent_at, citizen_id=m.citizen_id, message=m)
                for m in messages if int(m.vendor_message_id) in fresh
            ]

        events = self._commit(row.seq, build)
        if len(messages) >= max_count:
            # A full read may leave messages behind; read again once these are acked.
            self.store.set_flag(OUTBOX_FULL, True)
        return events

    def _decision_events(self, db: sqlite3.Connection, row: StoredEvent) -> list[EpjEvent]:
        event = row.event
        requests = EventStore.decide(db, event.visit_id or 0, bool(event.accepted), event.comment)
        if not requests:
            log.info("decision_for_unknown_request", event_id=event.event_id)
        return self._answered(EventStore.answers(db, requests, row.seq), event)

    @staticmethod
    def _answered(answers: list[Answer], event: PushedEvent) -> list[EpjEvent]:
        return [
            CancellationDecided(event_id=f"profil-cancellation-{a.request_id}",
                                occurred_at=event.occurred_at, citizen_id=a.citizen_id,
                                decision=aggregate(a))
            for a in answers
        ]


def aggregate(answer: Answer) -> CancellationDecision:
    """One decision for a request carried out visit by visit: accepted only if all were."""
    if not answer.parts:
        return CancellationDecision(request_id=answer.request_id,
                                    outcome=CancellationOutcome.REJECTED,
                                    comment=EMPTY_PERIOD_COMMENT)
    # Staff deciding a period usually give every visit the same comment: the citizen
    # reads it once, not once per visit.
    said: set[str] = set()
    parts = []
    for visit_id, accepted, comment in answer.parts:
        fresh = comment if comment and comment not in said else None
        said.update((comment,) if comment else ())
        parts.append(CancellationDecision(
            request_id=answer.request_id,
            outcome=CancellationOutcome.ACCEPTED if accepted else CancellationOutcome.REJECTED,
            affected_uids=(str(visit_id),), comment=fresh,
        ))
    return combine_decisions(answer.request_id, parts)
