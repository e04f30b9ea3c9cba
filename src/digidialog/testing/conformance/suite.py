"""The adapter contract, test by test, against a vendor's mock (see :func:`conformance_tests`).

Each test gets a started harness (:class:`~digidialog.testing.harness.ConformanceHarness`)
and checks one promise of :class:`~digidialog.adapters.contract.EpjAdapter`:
paging, time, idempotent writes, the change feed, and every failure mapped to
the right error.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest

from digidialog.adapters.contract import (
    Capabilities,
    ChangeBatch,
    CitizenMessage,
    DigitalStatusUpdate,
    EpjAdapter,
    PeriodCancellation,
)
from digidialog.adapters.soap import CallPolicy
from digidialog.domain import (
    AppointmentStatus,
    CancellationKind,
    CancellationRequest,
    OnBehalfOf,
    Person,
    Relation,
)
from digidialog.domain.events import (
    CancellationDecided,
    EpjEvent,
    StaffMessageKind,
    StaffMessageWritten,
    VisitCompleted,
)
from digidialog.domain.timezone import OSLO
from digidialog.errors import (
    AuthenticationFailed,
    MalformedReply,
    RetriableError,
    VendorTimeout,
    VendorUnavailable,
)
from digidialog.testing.harness import ConformanceHarness
from digidialog.testing.mockbase import Fault, FaultKind

NON_LATIN1 = "Sámi: Áilu Ŋuolla, Đuommá, Ŧeahkká; emoji 👵🏽🏠; Кирилл; 東京; «ø æ å»"
ONE_TRY = CallPolicy(timeout=2.0, attempts=1)
FAST_RETRY = CallPolicy(timeout=2.0, attempts=3, backoff_initial=0.05, backoff_max=2.0)
HOSTILE_REPLIES: list[tuple[FaultKind, type[RetriableError]]] = [
    (FaultKind.HTTP_500, VendorUnavailable),
    (FaultKind.BUSY, VendorUnavailable),
    (FaultKind.MALFORMED_XML, MalformedReply),
    (FaultKind.TRUNCATED, MalformedReply),
    (FaultKind.WRONG_CONTENT_TYPE, MalformedReply),
    (FaultKind.XXE, MalformedReply),
    (FaultKind.BILLION_LAUGHS, MalformedReply),
    (FaultKind.HUGE_BODY, MalformedReply),
    (FaultKind.DROP_CONNECTION, VendorUnavailable),
]
"""Each broken or hostile reply a mock can give, and the retriable error it must become.
Vendors' own tests reuse it for the operations the suite does not call."""
RELATIVE = Person(national_id="15076500565", given_name="Roland", family_name="Gundersen")


def drain(adapter: EpjAdapter, checkpoint: str | None) -> tuple[list[EpjEvent], str | None]:
    """Every event after ``checkpoint``, acknowledged, and the checkpoint to go on from."""
    events: list[EpjEvent] = []
    for _ in range(100):
        batch: ChangeBatch = adapter.changes(checkpoint, limit=200)
        events.extend(batch.events)
        adapter.acknowledge(batch)
        checkpoint = batch.checkpoint or checkpoint
        if not batch.more:
            break
    return events, checkpoint


class AdapterConformance:
    """The contract, test by test. Subclassed by :func:`conformance_tests`."""

    make_harness: Callable[[], ConformanceHarness]

    @pytest.fixture
    def harness(self) -> Iterator[ConformanceHarness]:
        """A started harness, stopped after the test."""
        harness = self.make_harness()
        harness.start()
        try:
            yield harness
        finally:
            harness.stop()

    @pytest.fixture
    def citizen(self, harness: ConformanceHarness) -> str:
        """A citizen receiving the open service."""
        return harness.seed_citizens(1)[0]

    # ------------------------------------------------------------ shape

    def test_adapter_follows_the_protocol(self, harness: ConformanceHarness) -> None:
        """The adapter is an EpjAdapter and describes its capabilities."""
        adapter = harness.adapter()
        assert isinstance(adapter, EpjAdapter)
        assert isinstance(adapter.capabilities, Capabilities)
        assert adapter.capabilities.vendor == harness.vendor
        adapter.close()

    def test_services_with_openness(self, harness: ConformanceHarness) -> None:
        """Services are listed with whether each is open; the harness's open ones are open."""
        services = {s.code: s for s in harness.adapter().services()}
        assert services[harness.open_service()].open_for_dialog
        assert services[harness.second_open_service()].open_for_dialog
        assert any(not s.open_for_dialog for s in services.values())

    # ------------------------------------------------------------ paging

    def test_citizens_are_read_to_the_last_page(self, harness: ConformanceHarness) -> None:
        """More citizens than one page: every one comes back, once."""
        seeded = set(harness.seed_citizens(harness.page_size + 7))
        found = [c.national_id for c in harness.adapter().citizens()]
        assert seeded <= set(found)
        assert len(found) == len(set(found))

    def test_appointments_are_read_to_the_last_page(
        self, harness: ConformanceHarness, citizen: str
    ) -> None:
        """More visits than one page in the period: all of them, with their exact times."""
        start = datetime(2026, 1, 5, 0, tzinfo=OSLO)
        expected = harness.seed_visits(citizen, harness.page_size + 3, start)
        last = max(v.end for v in expected)
        found = {a.uid: a for a in harness.adapter().appointments(
            citizen, start, last + timedelta(hours=1))}
        for visit in expected:
            assert visit.uid in found
            assert (found[visit.uid].start, found[visit.uid].end) == (visit.start, visit.end)

    # ------------------------------------------------------------ time

    def test_daylight_saving_edges(self, harness: ConformanceHarness, citizen: str) -> None:
        """Visits in the repeated autumn hour (both passes) and around the spring gap keep
        their instants."""
        expected = harness.seed_dst_visits(citizen)
        assert len(expected) >= 3
        span_start = min(v.start for v in expected) - timedelta(days=1)
        span_end = max(v.end for v in expected) + timedelta(days=1)
        found = {a.uid: a for a in harness.adapter().appointments(citizen, span_start, span_end)}
        for visit in expected:
            got = found[visit.uid]
            assert got.start == visit.start, visit.uid
            assert got.end == visit.end, visit.uid

    # ------------------------------------------------------------ writes

    def _message(self, harness: ConformanceHarness, citizen: str, text: str) -> CitizenMessage:
        message_id = str(uuid.uuid4())
        return CitizenMessage(
            message_id=message_id, thread_id=message_id, service_code=harness.open_service(),
            citizen_id=citizen, subject="Nøkkelboks", body=text,
            sent_at=datetime.now(OSLO).replace(microsecond=0),
            on_behalf_of=OnBehalfOf(person=RELATIVE, relation=Relation.FULLMAKT),
        )

    def test_delivery_is_idempotent_and_keeps_every_character(
        self, harness: ConformanceHarness, citizen: str
    ) -> None:
        """Sending the same message twice stores it once, with non-Latin-1 text intact."""
        adapter = harness.adapter()
        message = self._message(harness, citizen, NON_LATIN1)
        first = adapter.deliver_message(message)
        second = adapter.deliver_message(message)
        assert first.accepted and second.accepted
        assert first.epj_reference == second.epj_reference
        assert harness.delivered(message.message_id) == [NON_LATIN1]

    def _period(self, harness: ConformanceHarness, citizen: str, start: datetime,
                end: datetime) -> CancellationRequest:
        return CancellationRequest(
            request_id=str(uuid.uuid4()), citizen_id=citizen, kind=CancellationKind.PERIOD,
            start=start, end=end,
            service_ids=(harness.open_service(), harness.second_open_service()),
            reason="Ferie", requested_by=OnBehalfOf(person=RELATIVE, relation=Relation.FULLMAKT),
        )

    def test_cancellation_is_idempotent(self, harness: ConformanceHarness, citizen: str) -> None:
        """Registering the same cancellation twice has one effect."""
        start = datetime(2026, 2, 2, 0, tzinfo=OSLO)
        harness.seed_visits(citizen, 2, start + timedelta(hours=8))
        adapter = harness.adapter()
        request = self._period(harness, citizen, start, start + timedelta(days=1))
        first = adapter.register_cancellation(request)
        again = adapter.register_cancellation(request)
        assert first.accepted and again.accepted
        assert first.epj_reference == again.epj_reference
        assert harness.cancellations(request.request_id) >= 1
        count = harness.cancellations(request.request_id)
        adapter.register_cancellation(request)
        assert harness.cancellations(request.request_id) == count

    def test_period_cancellation_gets_one_decision(
        self, harness: ConformanceHarness, citizen: str
    ) -> None:
        """A period for two services is answered once, naming every visit it cancelled."""
        start = datetime(2026, 2, 9, 0, tzinfo=OSLO)
        visits = harness.seed_visits(citizen, 3, start + timedelta(hours=8))
        adapter = harness.adapter()
        _, checkpoint = drain(adapter, None)
        request = self._period(harness, citizen, start, start + timedelta(days=1))
        adapter.register_cancellation(request)
        harness.decide_cancellations(accept=True)
        events, _ = drain(adapter, checkpoint)
        decisions = [e for e in events if isinstance(e, CancellationDecided)
                     and e.decision.request_id == request.request_id]
        assert len(decisions) == 1
        decision = decisions[0].decision
        assert decision.accepted
        assert {v.uid for v in visits} <= set(decision.affected_uids)

    def test_single_cancellation_rejected(self, harness: ConformanceHarness, citizen: str) -> None:
        """A single visit's cancellation can be rejected, and the answer says so."""
        start = datetime(2026, 2, 16, 8, tzinfo=OSLO)
        (visit,) = harness.seed_visits(citizen, 1, start)
        adapter = harness.adapter()
        _, checkpoint = drain(adapter, None)
        request = CancellationRequest(
            request_id=str(uuid.uuid4()), citizen_id=citizen, kind=CancellationKind.SINGLE,
            start=visit.start, end=visit.end, appointment_uid=visit.uid,
            service_ids=(harness.open_service(),),
        )
        adapter.register_cancellation(request)
        harness.decide_cancellations(accept=False)
        events, _ = drain(adapter, checkpoint)
        (decided,) = [e for e in events if isinstance(e, CancellationDecided)
                      and e.decision.request_id == request.request_id]
        assert not decided.decision.accepted

    def test_digital_status_is_pushed(self, harness: ConformanceHarness, citizen: str) -> None:
        """Marking a citizen active and inactive reaches the EPJ."""
        adapter = harness.adapter()
        today = datetime.now(OSLO).date()
        assert adapter.set_digital_status([DigitalStatusUpdate(
            national_id=citizen, active=True, since=today)]) == 1
        assert harness.digitally_active(citizen)
        adapter.set_digital_status([DigitalStatusUpdate(
            national_id=citizen, active=False, since=today)])
        assert not harness.digitally_active(citizen)

    # ------------------------------------------------------------ changes

    def test_change_feed_resumes_from_a_checkpoint(
        self, harness: ConformanceHarness, citizen: str
    ) -> None:
        """Events after a checkpoint come once; nothing before it comes again."""
        visits = harness.seed_visits(citizen, 3, datetime(2026, 3, 2, 8, tzinfo=OSLO))
        adapter = harness.adapter()
        _, checkpoint = drain(adapter, None)
        harness.complete_visit(citizen, visits[0].uid)
        harness.write_staff_message(citizen, NON_LATIN1)
        first, checkpoint2 = drain(adapter, checkpoint)
        completed = [e for e in first if isinstance(e, VisitCompleted)]
        assert [e.appointment.uid for e in completed] == [visits[0].uid]
        assert completed[0].appointment.status is AppointmentStatus.COMPLETED
        written = [e for e in first if isinstance(e, StaffMessageWritten)]
        assert [e.message.body for e in written] == [NON_LATIN1]
        harness.complete_visit(citizen, visits[1].uid)
        second, _ = drain(adapter, checkpoint2)
        assert [e.appointment.uid for e in second if isinstance(e, VisitCompleted)] == [
            visits[1].uid]
        assert {e.event_id for e in first}.isdisjoint({e.event_id for e in second})

    @pytest.mark.parametrize("kind", [None, *StaffMessageKind])
    def test_staff_message_kinds_come_through(
        self, harness: ConformanceHarness, citizen: str, kind: StaffMessageKind | None
    ) -> None:
        """Each kind staff give a message arrives as that kind; none given is derived."""
        adapter = harness.adapter()
        _, checkpoint = drain(adapter, None)
        text = f"Melding ({kind or 'uten type'})"
        in_thread = kind in {StaffMessageKind.ANSWER, StaffMessageKind.CLOSING}
        harness.write_staff_message(citizen, text, kind=None if kind is None else kind.value,
                                    thread_id="T-1" if in_thread else None,
                                    in_reply_to="M-1" if in_thread else None)
        events, _ = drain(adapter, checkpoint)
        (written,) = [e for e in events if isinstance(e, StaffMessageWritten)]
        message = written.message
        assert (message.body, message.kind) == (text, kind)
        assert (message.thread_id is not None) is in_thread
        assert message.resolved_kind is (kind or StaffMessageKind.DIALOG)

    # ------------------------------------------------------------ failures

    def test_wrong_credentials_are_refused(self, harness: ConformanceHarness) -> None:
        """Wrong credentials are a final AuthenticationFailed, not a retry loop."""
        with pytest.raises(AuthenticationFailed):
            harness.adapter(valid_credentials=False, policy=ONE_TRY).services()

    @pytest.mark.parametrize(("kind", "expected"), HOSTILE_REPLIES)
    def test_faults_map_to_digidialog_errors(
        self, harness: ConformanceHarness, kind: FaultKind, expected: type[Exception]
    ) -> None:
        """Each broken or hostile answer becomes the right error, quickly."""
        harness.mock.inject(Fault(kind=kind, retry_after=1))
        began = time.monotonic()
        with pytest.raises(expected) as caught:
            harness.adapter(policy=ONE_TRY).services()
        assert isinstance(caught.value, RetriableError)
        assert time.monotonic() - began < 10, "a hostile reply must never hang the caller"

    def test_vendor_faults_are_final_or_retriable(self, harness: ConformanceHarness) -> None:
        """Every final vendor fault code becomes its final error; the retriable one retries."""
        for code, expected in harness.final_faults.items():
            harness.mock.inject(Fault(kind=FaultKind.VENDOR_FAULT, code=code))
            with pytest.raises(expected):
                harness.adapter(policy=FAST_RETRY).services()
            harness.mock.clear_faults()
        if harness.retriable_fault is not None:
            harness.mock.inject(Fault(kind=FaultKind.VENDOR_FAULT, code=harness.retriable_fault))
            assert harness.adapter(policy=FAST_RETRY).services()

    def test_busy_is_retried_after_the_asked_delay(self, harness: ConformanceHarness) -> None:
        """Busy once, then fine: the call succeeds, waiting at least Retry-After when given."""
        harness.mock.inject(Fault(kind=FaultKind.BUSY, retry_after=1))
        began = time.monotonic()
        assert harness.adapter(policy=FAST_RETRY).services()
        if harness.busy_retry_after:
            assert time.monotonic() - began >= 1.0

    def test_timeouts_are_retriable(self, harness: ConformanceHarness) -> None:
        """A reply slower than the timeout is a VendorTimeout, raised within the timeout."""
        harness.mock.inject(Fault(kind=FaultKind.LATENCY, delay=1.5))
        began = time.monotonic()
        with pytest.raises(VendorTimeout):
            harness.adapter(policy=CallPolicy(timeout=0.3, attempts=1)).services()
        assert time.monotonic() - began < 1.4

    def test_capabilities_match_behaviour(
        self, harness: ConformanceHarness, citizen: str
    ) -> None:
        """A native period cancellation is one EPJ request; an expanded one is one per visit."""
        start = datetime(2026, 2, 23, 0, tzinfo=OSLO)
        harness.seed_visits(citizen, 2, start + timedelta(hours=8))
        adapter = harness.adapter()
        request = self._period(harness, citizen, start, start + timedelta(days=1))
        adapter.register_cancellation(request)
        native = adapter.capabilities.period_cancellation is PeriodCancellation.NATIVE
        assert harness.cancellations(request.request_id) == (1 if native else 2)
