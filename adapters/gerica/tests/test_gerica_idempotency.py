"""Every write is idempotent on our id: the same request twice has one effect and one answer."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from gerica_support import CITIZEN, adapter_for, oslo, served_mock, visit

from digidialog.adapters.contract import CitizenMessage, DigitalStatusUpdate
from digidialog.domain import CancellationKind, CancellationRequest
from digidialog_gerica import GericaAdapter
from digidialog_gerica.mock import GericaMock


@pytest.fixture
def mock() -> Iterator[GericaMock]:
    """A served mock with two visits."""
    with served_mock() as running:
        running.add_appointment(CITIZEN, visit("I1", oslo(2026, 3, 2, 8)))
        running.add_appointment(CITIZEN, visit("I2", oslo(2026, 3, 2, 10), service="PB"))
        yield running


@pytest.fixture
def adapter(mock: GericaMock) -> Iterator[GericaAdapter]:
    """An adapter that tries once."""
    made = adapter_for(mock)
    yield made
    made.close()


def _message(text: str) -> CitizenMessage:
    return CitizenMessage(message_id="MSG-1", thread_id="MSG-1", service_code="HSP",
                          citizen_id=CITIZEN, subject="Nøkkel", body=text,
                          sent_at=oslo(2026, 3, 2, 12))


def test_a_message_sent_twice_is_stored_once(adapter: GericaAdapter, mock: GericaMock) -> None:
    """The second LeverMelding with the same MeldingId gets the first Kvittering back."""
    first = adapter.deliver_message(_message("Første"))
    again = adapter.deliver_message(_message("Første"))
    assert first == again and first.epj_reference
    assert mock.delivered_texts("MSG-1") == ["Første"]


def test_a_repeated_id_with_other_content_changes_nothing(
    adapter: GericaAdapter, mock: GericaMock
) -> None:
    """The id is the key: a resend with edited text is the same request, answered the same."""
    first = adapter.deliver_message(_message("Første"))
    edited = adapter.deliver_message(_message("Endret etterpå"))
    assert edited.epj_reference == first.epj_reference
    assert mock.delivered_texts("MSG-1") == ["Første"]


@pytest.mark.parametrize("kind", [CancellationKind.SINGLE, CancellationKind.PERIOD])
def test_a_cancellation_registered_twice_is_held_once(
    adapter: GericaAdapter, mock: GericaMock, kind: CancellationKind
) -> None:
    """Single or period: one cancellation held, one Kvittering, one decision later."""
    request = CancellationRequest(
        request_id=f"CAN-{kind}", citizen_id=CITIZEN, kind=kind, start=oslo(2026, 3, 2),
        end=oslo(2026, 3, 3), appointment_uid="I1" if kind is CancellationKind.SINGLE else None,
        service_ids=("HSP",) if kind is CancellationKind.SINGLE else ("HSP", "PB"))
    receipts = {adapter.register_cancellation(request) for _ in range(3)}
    assert len(receipts) == 1
    assert mock.cancellation_count(request.request_id) == 1
    mock.decide_cancellations(accept=True)
    mock.decide_cancellations(accept=False)  # nothing pending any more: no second decision
    decisions = [c for c in mock.state.feed if c.kind == "AVBESTILLINGSSVAR"]
    assert len(decisions) == 1


def test_reading_the_feed_twice_gives_the_same_event_ids(
    adapter: GericaAdapter, mock: GericaMock
) -> None:
    """Reading from the same checkpoint again (a crash before storing it) repeats ids only."""
    mock.complete_visit("I1")
    mock.write_staff_message(CITIZEN, "Hei")
    first = adapter.changes("0")
    again = adapter.changes("0")
    assert [e.event_id for e in first.events] == [e.event_id for e in again.events]
    assert first.checkpoint == again.checkpoint == "2"


def test_digital_status_set_twice_is_the_same_status(
    adapter: GericaAdapter, mock: GericaMock
) -> None:
    """Setting the same status again leaves it as it was."""
    update = DigitalStatusUpdate(national_id=CITIZEN, active=True, since=oslo(2026, 3, 1).date())
    assert adapter.set_digital_status([update]) == adapter.set_digital_status([update]) == 1
    assert mock.digitally_active(CITIZEN)
