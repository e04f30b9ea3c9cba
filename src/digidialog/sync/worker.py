"""The outbox carried out: messages to the portal, calls to the EPJ, events turned into messages.

Each job is done at least once and has its effect once: portal messages keep
the MsgId they were encoded with, and every EPJ write carries our id, which
the vendor treats as the same request when repeated.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from pydantic import TypeAdapter

from digidialog.adapters.contract import CitizenMessage, DigitalStatusUpdate
from digidialog.domain import CancellationDecision, CancellationOutcome, CancellationRequest
from digidialog.domain.events import CancellationDecided, EpjEvent, StaffMessageWritten
from digidialog.errors import FatalError, VendorRejected
from digidialog.log import get_logger
from digidialog.store import Store, WorkItem
from digidialog.sync import jobs
from digidialog.sync.attempt import attempt
from digidialog.sync.cancelling import Cancelling
from digidialog.sync.context import Municipality
from digidialog.sync.directory import Directory
from digidialog.sync.nightly.replies import EPJ_STATUS_BATCH, push_statuses
from digidialog.sync.observer import EngineObserver, NoObserver
from digidialog.sync.retry import RetryPolicy
from digidialog.sync.staff import StaffMessageRouter
from digidialog.sync.visits import VisitNotices
from digidialog.sync.window import read_window
from digidialog.transport import APPREC_SUBJECT, Envelope, Transport

log = get_logger("sync.worker")

_EVENT = TypeAdapter[EpjEvent](EpjEvent)


class OutboxWorker:
    """Carries out the outbox jobs of one municipality."""

    def __init__(self, store: Store, municipality: Municipality, directory: Directory,
                 transport: Transport, *, clock: Callable[[], datetime],
                 policy: RetryPolicy | None = None, observer: EngineObserver | None = None
                 ) -> None:
        self.store = store
        self.m = municipality
        self.transport = transport
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.observer = observer or NoObserver()
        self.staff = StaffMessageRouter(store, municipality, directory)
        self.visits = VisitNotices(store, municipality, directory)
        self.cancelling = Cancelling(store, municipality, directory, clock=clock)
        self._work: dict[str, Callable[[WorkItem, str], None]] = {
            jobs.PORTAL_SEND: self._send,
            jobs.EPJ_DELIVER: self._deliver,
            jobs.EPJ_DIGITAL_STATUS: self._digital_status,
            jobs.EPJ_EVENT: self._event,
            jobs.EPJ_READ_WINDOW: self._read_window,
            jobs.EPJ_CANCEL: self._cancel,
            EPJ_STATUS_BATCH: push_statuses(store, municipality),
        }

    def run_once(self, owner: str, *, limit: int = 20,
                 kinds: Collection[str] | None = None, lease_seconds: float = 60.0) -> int:
        """Claim and carry out up to ``limit`` due jobs (only ``kinds`` if given); how many.

        Each job's lease is renewed as its turn comes (see :func:`attempt`).
        """
        items = self.store.outbox.claim(owner, municipality=self.m.her_id, limit=limit,
                                        kinds=kinds, lease_seconds=lease_seconds)
        for item in items:
            work = self._work.get(item.kind)
            if work is None:
                self.store.outbox.park(item.id, owner, reason=f"unknown job kind {item.kind!r}")
                continue
            done = attempt(self.store.outbox, item, owner, self.policy,
                           lambda job, work=work: work(job, owner),  # type: ignore[misc]
                           lease_seconds=lease_seconds)
            if done and item.attempts > 0 and item.kind.startswith(jobs.EPJ_JOBS):
                self._epj_answers_again()
        return len(items)

    def _epj_answers_again(self) -> None:
        # A job that had failed went through: the others backing off from the same outage
        # need not wait out their backoff (a pushing EPJ has no feed to show it is back).
        hastened = self.store.outbox.hasten(self.m.her_id, jobs.EPJ_JOBS)
        if hastened:
            log.info("epj answers again: retries brought forward", municipality=self.m.her_id,
                     jobs=hastened)

    def _send(self, item: WorkItem, owner: str) -> None:
        meta = item.meta
        citizen = meta.get("citizen_id")
        if citizen and meta.get("subject") != APPREC_SUBJECT and \
                self.store.citizens.is_inactive(self.m.her_id, citizen):
            raise FatalError("the citizen is not digitally active (E35): nothing is sent to "
                             "them until the portal says they are active again")
        envelope = Envelope(
            body=item.payload, subject=meta.get("subject"), from_her_id=meta.get("from_her_id"),
            to_her_id=meta.get("to_her_id"), application_timestamp=self.clock(),
            message_id=meta.get("msg_id") or f"job-{item.key}",
            properties=meta.get("properties") or {},
        )
        if meta.get("ack") and meta.get("msg_id"):
            # Awaited before it is sent: the portal may answer at once, and another daemon
            # (or this one, restarted) may take the AppRec before a later commit here; it
            # would find nothing awaited, and the receipt would be awaited forever.
            with self.store.transaction() as conn:
                self.store.receipts.expect(conn, msg_id=meta["msg_id"],
                                           municipality=self.m.her_id, outbox_item=item.id,
                                           citizen_id=citizen, process=meta.get("process", ""),
                                           sent_at=self.clock())
        self.transport.send(meta["queue"], envelope)
        with self.store.transaction() as conn:
            self.store.outbox.complete(conn, item.id, owner)
        self.observer.message_sent(self.m.her_id, meta.get("subject") or "error-report")
        for code in meta.get("error_codes") or ():
            self.observer.apprec_error(self.m.her_id, code, direction="sent")
        log.info("sent to portal", queue=meta["queue"], msg_id=meta.get("msg_id"),
                 process=meta.get("process"), job=item.id)

    def _deliver(self, item: WorkItem, owner: str) -> None:
        message = CitizenMessage.model_validate_json(item.payload)
        receipt = self.m.adapter.deliver_message(message)
        with self.store.transaction() as conn:
            self.store.outbox.complete(conn, item.id, owner)
        log.info("delivered to EPJ", msg_id=message.message_id, job=item.id,
                 epj_reference=receipt.epj_reference)

    def _digital_status(self, item: WorkItem, owner: str) -> None:
        update = DigitalStatusUpdate.model_validate_json(item.payload)
        self.m.adapter.set_digital_status([update])
        with self.store.transaction() as conn:
            self.store.outbox.complete(conn, item.id, owner)

    def _read_window(self, item: WorkItem, owner: str) -> None:
        read_window(self.store, self.m, item.payload.decode(), self.clock())
        with self.store.transaction() as conn:
            self.store.outbox.complete(conn, item.id, owner)

    def _cancel(self, item: WorkItem, owner: str) -> None:
        request = CancellationRequest.model_validate_json(item.payload)
        try:
            self.m.adapter.register_cancellation(request)
        except VendorRejected as error:
            # The EPJ will never decide it (an unknown visit, a closed service, an invalid
            # period): the citizen is told no now, as a decision would have told them.
            log.warning("cancellation refused by the EPJ", request_id=request.request_id,
                        reason=str(error))
            decision = CancellationDecision(request_id=request.request_id,
                                            outcome=CancellationOutcome.REJECTED)
            self._answer_decision(item, owner, decision)
            return
        with self.store.transaction() as conn:
            self.store.outbox.complete(conn, item.id, owner)
        log.info("cancellation registered in EPJ", request_id=request.request_id, job=item.id)

    def _answer_decision(self, item: WorkItem, owner: str,
                         decision: CancellationDecision) -> None:
        now = self.clock()
        prepared = self.cancelling.prepare_answer(decision, now)
        with self.store.transaction() as conn:
            if prepared is not None:
                self.cancelling.record_answer(conn, prepared, now)
            self.store.outbox.complete(conn, item.id, owner)

    def _event(self, item: WorkItem, owner: str) -> None:
        event = _EVENT.validate_json(item.payload)
        now = self.clock()
        if isinstance(event, CancellationDecided):
            self._answer_decision(item, owner, event.decision)
            return
        if isinstance(event, StaffMessageWritten):
            dispatch = self.staff.prepare(event.message, now)
            with self.store.transaction() as conn:
                self.staff.record(conn, f"send:{item.key}", dispatch, now)
                self.store.outbox.complete(conn, item.id, owner)
            return
        prepared = self.visits.prepare(event, now)
        with self.store.transaction() as conn:
            self.visits.record(conn, prepared, now)
            self.store.outbox.complete(conn, item.id, owner)
