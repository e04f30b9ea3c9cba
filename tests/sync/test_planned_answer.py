"""What a citizen sees in SvarPlanlagteTimer, per status and configuration, built from the store.

Every answer is built by :class:`~digidialog.sync.planned.PlannedAppointments`
over a real (SQLite) store, encoded by the codec (which validates it) and
checked against the official national schemas. The municipality's EPJ
adapter is a tripwire: the answer must never call the EPJ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from digidialog.adapters.contract import EpjAdapter
from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    CancellationReason,
    Frequency,
    Person,
    Proxy,
    ProxyScope,
    Recurrence,
    Relation,
    Weekday,
)
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import Function, PortalMessage, decode, encode
from digidialog.helsenorge.message import Representative
from digidialog.store import RosterService, Store
from digidialog.sync import jobs
from digidialog.sync.access import CLOSED_TEXT, NOT_RECEIVED_TEXT
from digidialog.sync.context import Municipality, ServiceRoute
from digidialog.sync.planned import (
    LOCATION,
    UNKNOWN_SERVICE_TEXT,
    PlannedAppointments,
    is_shown,
)
from digidialog.testing.portal import build

MUNICIPALITY, PORTAL = "2000001", "100000"
HSP_HER, PB_HER, TRYGG_HER, UNKNOWN_HER = "2000002", "2000003", "2000004", "2000009"
CITIZEN = "13116900216"
ONLY_HSP = "15076500565"
"""A citizen who receives home nursing only."""
RELATIVE = Representative(id="01018012371", given_name="Roland", family_name="Gundersen",
                          relation=Relation.FULLMAKT)
TODAY = date(2026, 5, 4)  # a Monday
NOW = datetime.combine(TODAY, time(10), tzinfo=OSLO)
ROUTES = (ServiceRoute("HSP", "9", HSP_HER), ServiceRoute("PB", "PB", PB_HER),
          ServiceRoute("TRYGG", "TR", TRYGG_HER))
NAMES = {"HSP": "Hjemmesykepleie", "PB": "Praktisk bistand", "TRYGG": "Trygghetsalarm"}
BERGEN = ("planned", "assigned", "cancelled")
OSLO_SETTING = ("planned", "assigned", "completed")


class NoEpj:
    """An adapter that fails the test if anything of it is used."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the EPJ was asked ({name}) while answering synchronously")


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """An Oslo wall-clock time ``days`` from today."""
    return datetime.combine(TODAY + timedelta(days=days), time(hour, minute), tzinfo=OSLO)


def visit(uid: str, status: AppointmentStatus, days: int, hour: int, *, minutes: int = 30,
          **fields: Any) -> Appointment:
    """A visit as an EPJ reports it (its own service code as service_id)."""
    start = at(days, hour)
    return Appointment.model_validate({
        "uid": uid, "status": status, "start": start,
        "end": start + timedelta(minutes=minutes), "service_id": "HSP",
        "service_name": "HSP-kode", **fields})


P, A, C, D = (AppointmentStatus.PLANNED, AppointmentStatus.ASSIGNED,
              AppointmentStatus.CANCELLED, AppointmentStatus.COMPLETED)
SERIES = visit("serie-1", P, -7, 8, minutes=120, series="serie-1",
               expected_duration=timedelta(minutes=30), employees=("Planlagt Person",),
               recurrence=Recurrence(frequency=Frequency.WEEKLY,
                                     by_day=(Weekday.MO, Weekday.WE, Weekday.FR),
                                     until=TODAY + timedelta(days=30), paused=(at(2, 8),)))
ENDED_SERIES = visit("serie-0", P, -30, 8, minutes=120, recurrence=Recurrence(
    frequency=Frequency.DAILY, until=TODAY - timedelta(days=1)))
PAST_WINDOW = visit("vindu-0", P, -1, 8, minutes=120)
ASSIGNED = visit("besok-1", A, 1, 8, series="serie-1", employees=("Ola Pleier", "Áilu Ŋuolla"))
PAST_ASSIGNED = visit("besok-0", A, -1, 8, employees=("Ola Pleier",))
CANCELLED = visit("besok-2", C, 2, 13, service_id="PB",
                  cancellation_reason=CancellationReason.BY_CITIZEN)
CANCELLED_NO_REASON = visit("besok-3", C, 3, 13, service_id="PB")
PAST_CANCELLED = visit("besok-4", C, -2, 13, service_id="PB",
                       cancellation_reason=CancellationReason.BY_SERVICE)
COMPLETED = visit("besok-5", D, 0, 9, minutes=90, completed_at=at(0, 9, 50))
UNCONFIGURED = visit("besok-6", A, 1, 12, service_id="XYZ")
IN_CLOSED = visit("besok-7", A, 1, 14, service_id="TRYGG")
EVERY_VISIT = (SERIES, ENDED_SERIES, PAST_WINDOW, ASSIGNED, PAST_ASSIGNED, CANCELLED,
               CANCELLED_NO_REASON, PAST_CANCELLED, COMPLETED, UNCONFIGURED, IN_CLOSED)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A store holding the roster and every visit of :data:`CITIZEN`."""
    opened = Store.open(f"sqlite:///{tmp_path / 'planned.db'}")
    with opened.transaction() as conn:
        opened.roster.put_services(conn, MUNICIPALITY, [
            RosterService(code, name, code != "TRYGG") for code, name in NAMES.items()], NOW)
        for code in NAMES:
            opened.roster.put_recipients(conn, MUNICIPALITY, code, [CITIZEN], NOW)
        opened.roster.add_recipient(conn, MUNICIPALITY, "HSP", ONLY_HSP, NOW)
        for appointment in EVERY_VISIT:
            opened.appointments.put(conn, MUNICIPALITY, CITIZEN, appointment, changed_at=NOW)
    yield opened
    opened.close()


def municipality(statuses: tuple[str, ...] = BERGEN, *, require_registered: bool = False
                 ) -> Municipality:
    """Eksempel kommune with three configured services (one closed in the EPJ)."""
    return Municipality(name="Eksempel kommune", her_id=MUNICIPALITY, vendor="gerica",
                        adapter=cast(EpjAdapter, NoEpj()), routes=ROUTES,
                        portal_her_id=PORTAL, statuses=statuses,
                        require_registered_proxy=require_registered)


Ask = Callable[..., PortalMessage]


@pytest.fixture
def ask(store: Store, official_validate: Callable[[bytes], list[str]]) -> Ask:
    """Ask for planned visits; the answer, encoded (validated), checked against the official
    schemas and decoded again."""
    def asking(service: str | None = None, citizen: str = CITIZEN, *,
               statuses: tuple[str, ...] = BERGEN, on_behalf_of: Representative | None = None,
               require_registered: bool = False) -> PortalMessage:
        portal = build.portal_party(PORTAL, "100001")
        request = build.planned_appointments_request(
            portal, build.municipal_party(MUNICIPALITY, service), citizen, NOW,
            on_behalf_of=on_behalf_of)
        planned = PlannedAppointments(store, municipality(
            statuses, require_registered=require_registered), lambda: NOW)
        answer = planned.answer(request)
        data = encode(answer.message)
        assert official_validate(data) == []
        decoded = decode(data)
        assert not decoded.ack and decoded.warnings == ()
        assert decoded.conversation is not None
        assert decoded.conversation.parent == decoded.conversation.root == request.msg_id
        assert decoded.receiver == request.sender and decoded.patient == request.patient
        return decoded
    return asking


def uids(answer: PortalMessage) -> list[str]:
    """The uids shown, in the answer's order."""
    assert (answer.function, answer.code) == (Function.PLANNED_APPOINTMENTS_REPLY, "01")
    return [a.uid for a in answer.appointments]


# ---------------------------------------------------------------- per status and configuration


def test_bergen_sees_planned_assigned_and_cancelled_future_visits(ask: Ask) -> None:
    """statuses = planned, assigned, cancelled: the running series, the assigned visit and the
    two cancelled future visits, in start order; nothing past, completed or elsewhere."""
    assert uids(ask()) == ["serie-1", "besok-1", "besok-2", "besok-3"]


def test_oslo_sees_no_cancelled_visits_and_completed_ones_are_never_listed(ask: Ask) -> None:
    """statuses = planned, assigned, completed: cancelled visits are not shown, and completed
    visits are not in this answer either (they were pushed as MOA)."""
    assert uids(ask(statuses=OSLO_SETTING)) == ["serie-1", "besok-1"]


@pytest.mark.parametrize(("statuses", "expected"), [
    (("planned",), ["serie-1"]),
    (("assigned",), ["besok-1"]),
    (("cancelled",), ["besok-2", "besok-3"]),
    (("assigned", "cancelled"), ["besok-1", "besok-2", "besok-3"]),
])
def test_each_status_is_shown_only_when_configured(ask: Ask, statuses: tuple[str, ...],
                                                   expected: list[str]) -> None:
    """One configured status shows only visits in it."""
    assert uids(ask(statuses=statuses)) == expected


def test_completed_alone_shows_nothing(ask: Ask) -> None:
    """A municipality that only shows completed visits answers 02: they travel as MOA."""
    answer = ask(statuses=("completed",))
    assert (answer.code, answer.appointments) == ("02", ())


def test_planned_window_as_the_portal_shows_it(ask: Ask) -> None:
    """TENTATIVE window with its recurrence, paused date and expected duration, no employee,
    the Helsenorge TjenesteId (not the EPJ code), the roster's name, home visit, organizer and
    contact."""
    series = ask().appointments[0]
    assert series.status is AppointmentStatus.PLANNED
    assert (series.start, series.end) == (SERIES.start, SERIES.end)
    assert series.recurrence == SERIES.recurrence
    assert series.recurrence is not None and series.recurrence.paused == (at(2, 8),)
    assert series.expected_duration == timedelta(minutes=30)
    assert series.employees == ()
    assert (series.service_id, series.service_name) == ("9", "Hjemmesykepleie")
    assert (series.location, series.organizer, series.contact_her_id) == (
        LOCATION, "Eksempel kommune", HSP_HER)


def test_assigned_and_cancelled_visits_as_the_portal_shows_them(ask: Ask) -> None:
    """CONFIRMED at its exact time with each employee; CANCELLED with its reason, the service
    as canceller when the EPJ named none."""
    _, assigned, cancelled, unexplained = ask().appointments
    assert assigned.status is AppointmentStatus.ASSIGNED
    assert (assigned.start, assigned.end) == (ASSIGNED.start, ASSIGNED.end)
    assert assigned.employees == ("Ola Pleier", "Áilu Ŋuolla") and assigned.series == "serie-1"
    assert (cancelled.status, cancelled.cancellation_reason) == (
        AppointmentStatus.CANCELLED, CancellationReason.BY_CITIZEN)
    assert (cancelled.service_id, cancelled.service_name, cancelled.contact_her_id) == (
        "PB", "Praktisk bistand", PB_HER)
    assert unexplained.cancellation_reason is CancellationReason.BY_SERVICE


def test_a_series_is_shown_until_its_last_occurrence_has_passed() -> None:
    """The rule itself: a series that started last week is shown; one whose last occurrence
    was yesterday is not; a one-off window is past once it ended; completed never."""
    now = NOW.astimezone(OSLO)
    assert is_shown(SERIES, BERGEN, now)
    assert not is_shown(ENDED_SERIES, BERGEN, now)
    assert not is_shown(PAST_WINDOW, BERGEN, now)
    assert is_shown(PAST_WINDOW, BERGEN, PAST_WINDOW.start + timedelta(minutes=5))
    assert not is_shown(COMPLETED, (*BERGEN, "completed"), now)
    assert not is_shown(CANCELLED, OSLO_SETTING, now)


# ---------------------------------------------------------------- scope


def test_a_request_to_one_service_shows_that_service_only(ask: Ask) -> None:
    """Addressed to home nursing: its series and visit; to practical help: its cancellations."""
    assert uids(ask(HSP_HER)) == ["serie-1", "besok-1"]
    assert uids(ask(PB_HER)) == ["besok-2", "besok-3"]
    answer = ask(HSP_HER)
    assert answer.sender.her_ids == (MUNICIPALITY, HSP_HER)
    assert answer.sender.names == ("Eksempel kommune", "Hjemmesykepleie")


def test_a_service_with_nothing_to_show_answers_02(ask: Ask) -> None:
    """Practical help under Oslo's setting holds only cancelled visits: 02."""
    answer = ask(PB_HER, statuses=OSLO_SETTING)
    assert (answer.function, answer.code, answer.appointments) == (
        Function.PLANNED_APPOINTMENTS_REPLY, "02", ())


@pytest.mark.parametrize(("service", "citizen", "text"), [
    (TRYGG_HER, CITIZEN, CLOSED_TEXT),
    (PB_HER, ONLY_HSP, NOT_RECEIVED_TEXT),
    (UNKNOWN_HER, CITIZEN, UNKNOWN_SERVICE_TEXT),
], ids=["closed", "not-received", "unknown-her-id"])
def test_a_named_service_that_is_closed_not_received_or_unknown_is_refused_26(
        ask: Ask, service: str, citizen: str, text: str) -> None:
    """26 with a text the citizen understands, as a synchronous refusal (no AppRec)."""
    answer = ask(service, citizen)
    assert (answer.function, answer.code, answer.body) == (Function.REFUSAL, "26", text)


def test_the_municipality_alone_covers_only_services_the_citizen_receives(ask: Ask) -> None:
    """A citizen who receives home nursing only and has nothing stored: 02, not a refusal."""
    answer = ask(citizen=ONLY_HSP)
    assert (answer.function, answer.code) == (Function.PLANNED_APPOINTMENTS_REPLY, "02")


def test_a_citizen_receiving_nothing_gets_02(ask: Ask) -> None:
    """Nobody in the roster: nothing to show, 02."""
    answer = ask(citizen="01018012371")
    assert (answer.function, answer.code) == (Function.PLANNED_APPOINTMENTS_REPLY, "02")


# ---------------------------------------------------------------- proxies


def register(store: Store, scope: ProxyScope, valid_to: date | None = None,
             citizen: str = CITIZEN, relation: Relation = Relation.FULLMAKT) -> None:
    """The municipality registers the relative's proxy for ``citizen``."""
    holder = Person(national_id=RELATIVE.id, given_name=RELATIVE.given_name,
                    family_name=RELATIVE.family_name)
    with store.transaction() as conn:
        store.proxies.put(conn, MUNICIPALITY, Proxy(
            holder=holder, citizen_id=citizen, relation=relation, scope=scope,
            valid_from=TODAY - timedelta(days=100), valid_to=valid_to))


def test_a_relative_holding_the_appointments_scope_sees_the_visits(ask: Ask, store: Store) -> None:
    """"Timeavtaler og behandlere" covers seeing visits."""
    register(store, ProxyScope.APPOINTMENTS_AND_PRACTITIONERS)
    assert uids(ask(on_behalf_of=RELATIVE)) == ["serie-1", "besok-1", "besok-2", "besok-3"]


def test_an_expired_proxy_is_refused_30(ask: Ask, store: Store) -> None:
    """A proxy that ended yesterday: 30, with why, and nothing about the citizen's services."""
    register(store, ProxyScope.ALL, valid_to=TODAY - timedelta(days=1))
    for service in (None, TRYGG_HER, UNKNOWN_HER):
        answer = ask(service, on_behalf_of=RELATIVE)
        assert (answer.function, answer.code) == (Function.REFUSAL, "30")
        assert answer.body is not None and "gjelder ikke lenger" in answer.body


def test_a_relative_whose_proxy_is_for_someone_else_is_refused_where_registration_is_required(
        ask: Ask, store: Store) -> None:
    """The municipality requires registered proxies; the relative holds one for another
    citizen only: 30. Without the requirement, the portal's word lets them see."""
    register(store, ProxyScope.ALL, citizen=ONLY_HSP)
    refused = ask(on_behalf_of=RELATIVE, require_registered=True)
    assert (refused.code, refused.body) == (
        "30", "Du har ikke registrert fullmakt for denne personen hos kommunen.")
    assert uids(ask(on_behalf_of=RELATIVE)) == ["serie-1", "besok-1", "besok-2", "besok-3"]


# ---------------------------------------------------------------- first contact


def test_a_citizen_never_read_gets_one_read_job_and_the_stored_answer_meanwhile(
        ask: Ask, store: Store) -> None:
    """The window was never read: the answer is what is stored, and the EPJ is to be read
    once (keyed), by the outbox, never by the answer itself."""
    key = f"read-window:{MUNICIPALITY}:{CITIZEN}:first"
    assert uids(ask()) == ["serie-1", "besok-1", "besok-2", "besok-3"]
    job = store.outbox.get_by_key(key)
    assert job is not None and job.kind == jobs.EPJ_READ_WINDOW
    ask()
    assert sum(store.outbox.depth(MUNICIPALITY).values()) == 1


def test_a_citizen_already_read_gets_no_read_job(ask: Ask, store: Store) -> None:
    """Once read, the store is kept current by the EPJ's changes: no job."""
    with store.transaction() as conn:
        store.appointments.replace_window(conn, MUNICIPALITY, ONLY_HSP, at(-1, 0), at(42, 0),
                                          [], at=NOW)
    ask(citizen=ONLY_HSP)
    assert store.outbox.get_by_key(f"read-window:{MUNICIPALITY}:{ONLY_HSP}:first") is None


def test_no_read_job_for_a_citizen_in_no_service(ask: Ask, store: Store) -> None:
    """Someone the roster does not know is not read from the EPJ on the portal's say-so."""
    ask(citizen="01018012371")
    assert store.outbox.get_by_key(f"read-window:{MUNICIPALITY}:01018012371:first") is None
