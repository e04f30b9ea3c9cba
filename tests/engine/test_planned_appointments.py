"""HentPlanlagteTimer end to end, for each vendor, on SQLite with the embedded transport and on
PostgreSQL with RabbitMQ, under two municipality configurations.

The EPJ mock holds visits in every status; the portal simulator asks on
``<municipality>_sync``. The first answer comes from what the store holds
(nothing yet: ``02``) and makes the engine read the citizen's visits from the
EPJ (the first-contact read job); the next shows them as the configuration
says. What is expected is derived from what the EPJ reports through its
adapter, so the test holds for every vendor's way of keeping visits (CosDoc
keeps a series as its occurrences, for instance). Every answer is checked
against the official national schemas.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from digidialog.domain import (
    Appointment,
    AppointmentStatus,
    Person,
    Proxy,
    ProxyScope,
    Relation,
)
from digidialog.helsenorge import Function, PortalMessage, decode, encode
from digidialog.helsenorge.message import Representative
from digidialog.sync.access import CLOSED_TEXT
from digidialog.sync.planned import LOCATION, SHOWABLE
from digidialog.sync.window import window_around
from digidialog.testing.portal import build
from digidialog.transport import Envelope, sync_queue, syncreply_queue
from tests import hostile
from tests.engine.planned_world import NAME, PlannedWorld, planned_world
from tests.engine.world import eventually

CONFIGURATIONS = {
    # Bergen shows assigned visits and cancellations; registered proxies are held to theirs,
    # others are let in on the portal's word.
    "bergen": (("planned", "assigned", "cancelled"), False),
    # Oslo shows completed visits (pushed as MOA, never in this answer) and requires every
    # relative to hold a proxy registered with the municipality.
    "oslo": (("planned", "assigned", "completed"), True),
}
RELATIVE = Representative(id="15076500565", given_name="Roland", family_name="Gundersen",
                          relation=Relation.FULLMAKT)
OTHER_RELATIVE = Representative(id="01018012371", given_name="Ánde", family_name="Sara",
                                relation=Relation.VERGE)


@pytest.fixture(params=list(CONFIGURATIONS))
def configuration(request: pytest.FixtureRequest) -> str:
    """The municipality's configuration by name."""
    return str(request.param)


@pytest.fixture
def planned(vendor: str, backend: str, configuration: str, tmp_path: Path
            ) -> Iterator[PlannedWorld]:
    """A started world under ``configuration``."""
    statuses, registered = CONFIGURATIONS[configuration]
    with planned_world(vendor, backend, tmp_path, statuses=statuses,
                       require_registered_proxy=registered) as world:
        yield world


def ask(world: PlannedWorld, service: str | None, citizen: str, *,
        on_behalf_of: Representative | None = None) -> PortalMessage:
    """HentPlanlagteTimer; the decoded answer (there must be one)."""
    answer = world.portal.planned_appointments(world.municipality.her_id, service, citizen,
                                               on_behalf_of=on_behalf_of, timeout=8.0)
    assert answer is not None, "no answer within the portal's 8 seconds"
    return answer


def reported(world: PlannedWorld, citizen: str) -> list[Appointment]:
    """What the EPJ reports for the citizen in the window the engine reads."""
    return list(world.harness.adapter().appointments(citizen, *window_around(world.now)))


def expected(world: PlannedWorld, visits: list[Appointment], codes: set[str]) -> set[str]:
    """The uids the citizen must see: the configured statuses, in ``codes``, not past.

    Every seeded visit is either wholly past or wholly to come, so "not past" is "starts
    after the seed's hour".
    """
    statuses = world.municipality.statuses
    return {v.uid for v in visits if v.status in SHOWABLE and v.status.value in statuses
            and v.service_id in codes and v.start > world.now}


def register(world: PlannedWorld, relative: Representative, citizen: str,
             valid_to: date | None = None) -> None:
    """The municipality registers the relative's "timeavtaler" proxy for ``citizen``."""
    holder = Person(national_id=relative.id, given_name=relative.given_name,
                    family_name=relative.family_name)
    with world.store.transaction() as conn:
        world.store.proxies.put(conn, world.municipality.her_id, Proxy(
            holder=holder, citizen_id=citizen, relation=relative.relation,
            scope=ProxyScope.APPOINTMENTS_AND_PRACTITIONERS,
            valid_from=world.now.date() - timedelta(days=30), valid_to=valid_to))


def assert_presented(world: PlannedWorld, shown: PortalMessage,
                     visits: list[Appointment]) -> None:
    """Each visit as the EPJ holds it, in start order, shown the portal's way."""
    by_uid = {v.uid: v for v in visits}
    by_code = {r.vendor_code: r for r in world.municipality.routes}
    names = {code: s.name for code, s in
             world.store.roster.services(world.municipality.her_id).items()}
    starts = [a.start for a in shown.appointments]
    assert starts == sorted(starts)
    for appointment in shown.appointments:
        source = by_uid[appointment.uid]
        route = by_code[source.service_id or ""]
        assert (appointment.status, appointment.start, appointment.end) == (
            source.status, source.start, source.end)
        assert (appointment.service_id, appointment.contact_her_id) == (
            route.service_id, route.her_id)
        assert appointment.service_name == names[route.vendor_code]
        assert (appointment.location, appointment.organizer) == (LOCATION, NAME)
        assert appointment.recurrence == source.recurrence
        if appointment.status is AppointmentStatus.PLANNED:
            assert appointment.employees == ()
        else:
            assert appointment.employees == source.employees
        if appointment.status is AppointmentStatus.CANCELLED:
            assert appointment.cancellation_reason == source.cancellation_reason


def uids(answer: PortalMessage) -> set[str]:
    """The uids of a 01."""
    assert (answer.function, answer.code) == (Function.PLANNED_APPOINTMENTS_REPLY, "01")
    return {a.uid for a in answer.appointments}


def test_the_citizen_sees_the_visits_the_configuration_shows(
        planned: PlannedWorld, configuration: str,
        official_validate: Callable[[bytes], list[str]]) -> None:
    """02 before the first read, then every configured status, per service and for the
    municipality; 26 for a closed service; 02 for a citizen with nothing; proxies held to
    their registration. Every answer valid against the official schemas, no violation."""
    world, (citizen, neighbour) = planned, planned.citizens
    open_route, second, closed = (planned.routes[r] for r in ("open", "second", "closed"))

    first = ask(world, None, citizen)
    assert (first.function, first.code) == (Function.PLANNED_APPOINTMENTS_REPLY, "02")
    eventually(lambda: world.store.appointments.window_read(world.municipality.her_id, citizen),
               what="the first-contact read of the citizen's visits")

    visits = reported(world, citizen)
    statuses = {v.status for v in visits}
    assert statuses == set(AppointmentStatus), f"the EPJ holds visits in every status: {statuses}"
    everything = ask(world, None, citizen)
    wanted = expected(world, visits, {open_route.vendor_code, second.vendor_code})
    assert wanted and uids(everything) == wanted
    assert_presented(world, everything, visits)
    shown_statuses = {a.status.value for a in everything.appointments}
    assert shown_statuses == set(world.municipality.statuses) & {"planned", "assigned",
                                                                 "cancelled"}

    in_second = expected(world, visits, {second.vendor_code})
    second_answer = ask(world, second.her_id, citizen)
    if in_second:
        assert uids(second_answer) == in_second
        assert second_answer.sender.her_ids == (world.municipality.her_id, second.her_id)
    else:
        assert second_answer.code == "02"
    assert uids(ask(world, open_route.her_id, citizen)) == expected(
        world, visits, {open_route.vendor_code})

    refused = ask(world, closed.her_id, citizen)
    assert (refused.function, refused.code, refused.body) == (Function.REFUSAL, "26",
                                                              CLOSED_TEXT)
    nothing = ask(world, None, neighbour)
    assert (nothing.function, nothing.code, nothing.appointments) == (
        Function.PLANNED_APPOINTMENTS_REPLY, "02", ())

    register(world, RELATIVE, citizen)
    assert uids(ask(world, None, citizen, on_behalf_of=RELATIVE)) == wanted
    register(world, RELATIVE, citizen, valid_to=world.now.date() - timedelta(days=1))
    expired = ask(world, None, citizen, on_behalf_of=RELATIVE)
    assert (expired.function, expired.code) == (Function.REFUSAL, "30")
    register(world, OTHER_RELATIVE, neighbour)  # a proxy, but for someone else
    other = ask(world, None, citizen, on_behalf_of=OTHER_RELATIVE)
    if configuration == "oslo":
        assert (other.function, other.code) == (Function.REFUSAL, "30")
    else:
        assert uids(other) == wanted  # no registration for this citizen: the portal's word

    answers = world.portal.received(function=Function.PLANNED_APPOINTMENTS_REPLY) + \
        world.portal.received(function=Function.REFUSAL)
    assert len(answers) == 9
    for received in answers:
        assert official_validate(received.envelope.body) == []
        assert received.answer is None and not received.message.ack  # no AppRec, none asked
    world.portal.assert_no_violations()
    assert world.portal.received(function=Function.RECEIPT) == []


def test_a_step_of_the_engine_answers_what_waits_on_the_sync_queue(tmp_path: Path) -> None:
    """Run-once modes (tests, the demo) answer synchronous requests too: one step drains
    ``M_sync``, answering each on its reply-to."""
    with planned_world("gerica", "embedded", tmp_path, statuses=("assigned",)) as world:
        world.stop_engine()
        world.portal.stop()
        transport = world.engine.transport_factory()
        portal = world.municipality.portal_her_id
        request = build.planned_appointments_request(
            build.portal_party(portal, "100001"),
            build.municipal_party(world.municipality.her_id, None), world.citizens[1],
            world.now)
        sent = Envelope(body=encode(request), subject=request.process, from_her_id=portal,
                        to_her_id=world.municipality.her_id, reply_to=syncreply_queue(portal))
        transport.send(sync_queue(world.municipality.her_id), sent)
        assert world.engine.step()
        reply = transport.receive(syncreply_queue(portal), timeout=0)
        assert reply is not None and reply.envelope.correlation_id == sent.message_id
        reply.accept()
        assert decode(reply.envelope.body).code == "02"
        assert transport.receive(sync_queue(world.municipality.her_id), timeout=0) is None
        transport.close()


HOSTILE = ("xxe-local-file", "billion-laughs", "nesting-300-deep", "truncated-in-half",
           "binary-blob", "empty-document", "msg-id-not-uuid")


@pytest.mark.parametrize("backend", ["embedded",
                                     pytest.param("production", marks=pytest.mark.services)])
def test_hostile_requests_on_the_sync_queue_are_reported_and_answering_goes_on(
        backend: str, tmp_path: Path) -> None:
    """Hostile bytes on ``M_sync`` are reported on the portal's error queue (never echoed,
    no local file read), and the next HentPlanlagteTimer is answered as usual."""
    statuses = CONFIGURATIONS["bergen"][0]
    with planned_world("gerica", backend, tmp_path, statuses=statuses) as world:
        workspace = hostile.make_workspace(tmp_path)
        municipality = world.municipality.her_id
        for case in (c for c in hostile.CASES if c.id in HOSTILE):
            world.portal.send_raw(municipality, case.build(workspace),
                                  queue=sync_queue(municipality),
                                  subject="DIALOG_INNBYGGER_TIMERESERVASJON")
        reports = world.portal.wait_for_errors(len(HOSTILE), timeout=30)
        assert {r.condition for r in reports} <= {"transport:not-well-formed-xml",
                                                  "transport:invalid-field-value"}
        assert all(hostile.SECRET_MARKER not in (r.description or "") for r in reports)
        assert all(r.envelope.body == b"" for r in reports)
        answer = ask(world, None, world.citizens[0])
        assert answer.function is Function.PLANNED_APPOINTMENTS_REPLY
        running = {t.name for t in threading.enumerate() if t.is_alive()}
        assert set(world.engine.loops()) <= running
        world.portal.assert_no_violations()
