"""Visit elements to appointments: states, Recurrence, CancelledBy, and a strict reading."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from digidialog import modelbuild
from digidialog.domain import (
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Recurrence,
    Weekday,
)
from digidialog.errors import MalformedReply
from digidialog_profil import appointments
from digidialog_profil.mock import wire as mock_wire
from digidialog_profil.mock.state import Visit
from digidialog_profil.wire import tag

CITIZEN = "15076500565"
START = datetime(2026, 5, 4, 6, tzinfo=UTC)
SERIES = Recurrence(frequency=Frequency.WEEKLY, interval=2, by_day=(Weekday.MO, Weekday.TH),
                    until=date(2026, 8, 31))


_PRINTABLE = st.characters(categories=("L", "N", "P", "S", "Zs"))


def visit(**changes: object) -> Visit:
    """An assigned visit, with changes."""
    fields: dict[str, object] = {
        "visit_id": 500_001, "national_id": CITIZEN, "service_id": 2, "state": 1,
        "start": START, "end": START + timedelta(minutes=30), "text": "Dusj",
        "employee": "Ánte Ŋuolla", "last_modified": START - timedelta(days=1),
    }
    fields.update(changes)
    return Visit(**fields)  # type: ignore[arg-type]


def element(item: Visit) -> etree._Element:
    """The Visit element the mock would send."""
    return mock_wire.single_visit(item)[0]


def test_an_assigned_visit() -> None:
    """State 1: booked time, employee, text; ids as strings."""
    appointment = appointments.appointment(element(visit()))
    assert appointment.uid == "500001"
    assert appointment.status is AppointmentStatus.ASSIGNED
    assert appointment.service_id == "2"
    assert (appointment.start, appointment.end) == (START, START + timedelta(minutes=30))
    assert appointment.employees == ("Ánte Ŋuolla",)
    assert appointment.description == "Dusj"


def test_a_planned_series_keeps_its_structured_recurrence() -> None:
    """State 0 with Recurrence {Frequency, Interval, ByDay*, Until} (not an RRULE)."""
    appointment = appointments.appointment(
        element(visit(state=0, employee=None, recurrence=SERIES)))
    assert appointment.status is AppointmentStatus.PLANNED
    assert appointment.recurrence == SERIES


def test_a_done_visit_has_its_completion_time() -> None:
    """State 2 carries DoneAt."""
    done = START + timedelta(minutes=25)
    appointment = appointments.appointment(element(visit(state=2, done_at=done)))
    assert appointment.status is AppointmentStatus.COMPLETED
    assert appointment.completed_at == done


@pytest.mark.parametrize(("by", "reason"), [("Client", CancellationReason.BY_CITIZEN),
                                            ("Provider", CancellationReason.BY_SERVICE)])
def test_cancelled_by_client_or_provider(by: str, reason: CancellationReason) -> None:
    """State 3: CancelledBy Client is by_citizen, Provider is by_service."""
    appointment = appointments.appointment(element(visit(state=3, employee=None, cancelled_by=by)))
    assert appointment.status is AppointmentStatus.CANCELLED
    assert appointment.cancellation_reason is reason


@given(
    state=st.integers(0, 3),
    minutes=st.integers(0, 600),
    length=st.integers(0, 240),
    employee=st.one_of(st.none(), st.text(_PRINTABLE, min_size=1, max_size=20)),
    text=st.text(_PRINTABLE, max_size=30),
    series=st.booleans(),
)
def test_the_fast_path_builds_what_validation_builds(
    state: int, minutes: int, length: int, employee: str | None, text: str, series: bool
) -> None:
    """Appointments assembled without re-validation equal, field by field and in every
    pydantic view, the ones the model's own validation builds from the same values."""
    start = START + timedelta(minutes=minutes)
    item = visit(
        state=state, start=start, end=start + timedelta(minutes=length),
        employee=employee if state in (1, 2) else None,
        text=text,
        recurrence=SERIES if series and state == 0 else None,
        done_at=start + timedelta(minutes=length) if state == 2 else None,
        cancelled_by="Client" if state == 3 else None,
    )
    fast = appointments.appointment(element(item))
    reference = modelbuild.validated({
        "uid": fast.uid, "status": fast.status, "start": fast.start, "end": fast.end,
        "service_id": fast.service_id, "employees": fast.employees,
        "recurrence": fast.recurrence, "cancellation_reason": fast.cancellation_reason,
        "description": fast.description, "completed_at": fast.completed_at,
    }, "Profil")
    assert modelbuild.PLAIN
    assert fast == reference
    assert fast.model_dump() == reference.model_dump()
    assert fast.model_dump_json() == reference.model_dump_json()
    assert fast.model_fields_set == reference.model_fields_set
    assert hash(fast) == hash(reference)
    assert fast.model_copy(update={"uid": "x"}).uid == "x"


def test_a_page_and_its_token() -> None:
    """GetVisitsResponse: the visits, then the token of the next page."""
    page = mock_wire.visits_page([visit(visit_id=1), visit(visit_id=2)], "25.abc")
    found, token = appointments.visits_page(page, CITIZEN)
    assert [a.uid for a in found] == ["1", "2"]
    assert token == "25.abc"  # noqa: S105 - a continuation token, not a password
    assert appointments.visits_page(mock_wire.visits_page([], None)) == ([], None)


def _child(parent: etree._Element, name: str) -> etree._Element:
    found = parent.find(tag(name))
    assert found is not None
    return found


def _broken(mutate: str) -> etree._Element:
    """A page of two visits whose second breaks the contract as ``mutate`` says."""
    root = mock_wire.visits_page([visit(visit_id=7), visit(visit_id=8)], None)
    second = root[1]
    children = list(second)
    if mutate == "swap":
        second.insert(0, children[1])
    elif mutate == "drop-text":
        second.remove(_child(second, "Text"))
    elif mutate == "drop-last-modified":
        second.remove(children[-1])
    elif mutate == "unknown":
        second.insert(7, etree.Element(tag("Secret")))
    elif mutate == "repeat-text":
        second.insert(8, etree.Element(tag("Text")))
    elif mutate == "state":
        _child(second, "State").text = "7"
    elif mutate == "id":
        _child(second, "VisitId").text = "12a"
    elif mutate == "end-before-start":
        _child(second, "WindowEnd").text = "2026-05-04T07:59:00"
    elif mutate == "done-at-outside-state-2":
        done = etree.Element(tag("DoneAt"))
        done.text = "2026-05-04T09:00:00"
        _child(second, "Text").addnext(done)
    elif mutate == "other-citizen":
        _child(second, "NationalId").text = "01010012356"
    elif mutate == "stranger-in-page":
        root.insert(1, etree.Element(tag("Client")))
    return root


@pytest.mark.parametrize("mutate", [
    "swap", "drop-text", "drop-last-modified", "unknown", "repeat-text", "state", "id",
    "end-before-start", "done-at-outside-state-2", "other-citizen", "stranger-in-page",
])
def test_a_broken_visit_is_refused_with_its_position_and_without_its_content(
    mutate: str,
) -> None:
    """Each break of the contract is a MalformedReply that names the visit and the rule,
    and never repeats a national id or the visit's text."""
    with pytest.raises(MalformedReply) as caught:
        appointments.visits_page(_broken(mutate), CITIZEN)
    message = str(caught.value)
    assert CITIZEN not in message and "01010012356" not in message and "Dusj" not in message
    if mutate != "stranger-in-page":
        assert "Visit 2 of the page" in message


@pytest.mark.parametrize("recurrence", [
    ["WEEKLY", "0", "MO", "2026-08-31"],
    ["MONTHLY", "1", "2026-08-31"],
    ["WEEKLY", "1", "MO", "MO", "2026-08-31"],
    ["WEEKLY", "1", "XX", "2026-08-31"],
    ["WEEKLY", "1", "MO", "31.08.2026"],
])
def test_an_unreadable_recurrence_is_refused(recurrence: list[str]) -> None:
    """Interval 0, an unknown frequency or weekday, a weekday twice, a bad date."""
    root = element(visit(state=0, employee=None, recurrence=SERIES))
    series = _child(root, "Recurrence")
    for child in list(series):
        series.remove(child)
    names = ["Frequency", "Interval", *["ByDay"] * (len(recurrence) - 3), "Until"]
    for name, value in zip(names, recurrence, strict=True):
        etree.SubElement(series, tag(name)).text = value
    with pytest.raises(MalformedReply, match="Recurrence"):
        appointments.appointment(root)
