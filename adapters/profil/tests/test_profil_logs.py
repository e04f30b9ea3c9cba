"""No national id, name or message text in what the Profil adapter logs or raises.

Logs are captured raw, before digidialog's masking processor, so the test
proves the adapter never hands personal data to the logger at all.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from profil_support import drain, started
from structlog.testing import capture_logs

from digidialog.adapters.contract import CitizenMessage
from digidialog.adapters.soap import CallPolicy
from digidialog.domain import CancellationKind, CancellationRequest, OnBehalfOf, Person, Relation
from digidialog.errors import DigidialogError
from digidialog.testing.mockbase import Fault, FaultKind

TEXT = "Hemmelig nøkkelkode 4711"
NAME = "Roland Gundersen"


def test_a_whole_day_of_traffic_logs_and_raises_nothing_personal() -> None:
    """Messages both ways, visits done, a cancellation partly refused, a parked event and
    a stream of faults: every log event and error message is free of ids, names, text."""
    relative = Person(national_id="15076500565", given_name="Roland", family_name="Gundersen")
    errors: list[str] = []
    with started() as harness, capture_logs() as events:
        citizen, other = harness.seed_citizens(2)
        start = datetime(2026, 6, 1, 6, tzinfo=UTC)
        visits = harness.seed_visits(citizen, 3, start)
        adapter = harness.adapter(policy=CallPolicy(timeout=2, attempts=1))
        adapter.deliver_message(CitizenMessage(
            message_id=str(uuid.uuid4()), thread_id="t", service_code="1", citizen_id=citizen,
            subject=TEXT, body=TEXT, sent_at=start,
            on_behalf_of=OnBehalfOf(person=relative, relation=Relation.FULLMAKT)))
        harness.mock.state.complete(int(visits[2].uid))
        adapter.register_cancellation(CancellationRequest(  # refused at once: done already
            request_id=str(uuid.uuid4()), citizen_id=citizen, kind=CancellationKind.SINGLE,
            start=visits[2].start, end=visits[2].end, appointment_uid=visits[2].uid))
        adapter.register_cancellation(CancellationRequest(
            request_id=str(uuid.uuid4()), citizen_id=citizen, kind=CancellationKind.PERIOD,
            start=start, end=start + timedelta(days=1), service_ids=("1",), reason=TEXT,
            requested_by=OnBehalfOf(person=relative, relation=Relation.FULLMAKT)))
        harness.complete_visit(citizen, visits[0].uid)
        harness.write_staff_message(citizen, TEXT)
        harness.decide_cancellations(accept=False)
        harness.mock.notify("VisitChanged", other, visit_id=int(visits[1].uid))  # mismatch
        drain(adapter)
        for kind in FaultKind:
            if kind in (FaultKind.LATENCY, FaultKind.VENDOR_FAULT):
                continue
            harness.mock.inject(Fault(kind=kind, retry_after=1))
            with pytest.raises(DigidialogError) as caught:
                adapter.appointments(citizen, start, start + timedelta(days=1))
            errors.append(str(caught.value))
    logged = {e["event"] for e in events}
    assert {"push_stored", "cancel_visit_refused", "visit_owner_mismatch"} <= logged
    for text in [*(repr(e) for e in events), *errors]:
        for secret in (citizen, other, relative.national_id, NAME, "Roland", TEXT, "Ŋuolla"):
            assert secret not in text, text
