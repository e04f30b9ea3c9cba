"""Visits end to end, for every vendor, on both backends: what the EPJ reports reaches the
store and, when the citizen must hear it, the portal; cancellations go to the EPJ and its
decision comes back as 08 or 09 in the request's thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from digidialog.domain import (
    AppointmentStatus,
    CancellationReason,
    DigitalStatus,
    Proxy,
    ProxyScope,
    Relation,
)
from digidialog.domain.timezone import OSLO, to_oslo
from digidialog.helsenorge import Function, Representative
from digidialog.store import DONE
from digidialog.sync.follower import CHECKPOINT
from digidialog.testing import samples
from digidialog.testing.harness import ExpectedVisit
from tests.engine.world import World, eventually, world

RELATIVE = Representative(id=samples.RELATIVE.id, given_name="Roland", family_name="Gundersen",
                          relation=Relation.FULLMAKT)
SHOWS_COMPLETED = ("planned", "assigned", "completed")


@pytest.fixture
def showing_completed(vendor: str, backend: str, tmp_path: Path) -> Iterator[World]:
    """A world whose municipality shows completed visits (and not cancelled ones)."""
    with world(vendor, backend, tmp_path, statuses=SHOWS_COMPLETED) as started:
        yield started


def tomorrow_at(hour: int) -> datetime:
    """A whole hour tomorrow, Oslo time."""
    day = datetime.now(OSLO).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=OSLO)


def registered(world: World, request_id: str) -> bool:
    """Whether the engine has registered the cancellation in the EPJ (every visit of it, where
    the EPJ takes a period visit by visit)."""
    job = world.store.outbox.get_by_key(f"cancel:{request_id}")
    return job is not None and job.state == DONE


def activate_with_visits(world: World, count: int = 4) -> tuple[str, list[ExpectedVisit]]:
    """A citizen with ``count`` visits tomorrow becomes digitally active; their visits are read."""
    citizen = world.citizens[0]
    visits = world.harness.seed_visits(citizen, count, tomorrow_at(9))
    sent = world.portal.send_digital_status(world.municipality, citizen, DigitalStatus.ACTIVE)
    world.portal.wait_for_receipt(sent.msg_id, timeout=15)
    eventually(lambda: len(world.store.appointments.of_citizen(world.municipality, citizen))
               >= count, timeout=15, what="the citizen's visits read into the store")
    return citizen, visits


def test_a_completed_visit_reaches_the_portal_once(showing_completed: World) -> None:
    """MOA with status COMPLETED, sent once however often the EPJ reports it, AppRec'd."""
    world = showing_completed
    citizen, visits = activate_with_visits(world)
    world.harness.complete_visit(citizen, visits[0].uid)
    notice = world.portal.wait_for(function=Function.APPOINTMENT_NOTICE, code="MOA",
                                   citizen=citizen, timeout=15)[0]
    visit = notice.message.appointments[0]
    assert visit.uid == visits[0].uid
    assert visit.status is AppointmentStatus.COMPLETED
    assert visit.contact_her_id in (world.service, world.second_service)
    assert visit.location == "Hjemmebesøk"
    eventually(lambda: not world.store.receipts.pending(world.municipality),
               what="the portal's AppRec for the notice")
    stored = world.store.appointments.get(world.municipality, visits[0].uid)
    assert stored is not None and stored.status is AppointmentStatus.COMPLETED
    assert len(world.portal.received(Function.APPOINTMENT_NOTICE)) == 1
    world.portal.assert_no_violations()


def test_completed_visits_are_not_pushed_where_they_are_not_shown(running: World) -> None:
    """A municipality that does not show completed visits keeps them in the store only."""
    world = running
    citizen, visits = activate_with_visits(world)
    world.harness.complete_visit(citizen, visits[0].uid)

    def completed() -> bool:
        stored = world.store.appointments.get(world.municipality, visits[0].uid)
        return stored is not None and stored.status is AppointmentStatus.COMPLETED

    eventually(completed, timeout=15, what="the completed visit in the store")
    world.engine.run_until_idle()
    assert world.portal.received(Function.APPOINTMENT_NOTICE) == []


def test_a_single_cancellation_is_registered_and_accepted(running: World) -> None:
    """ART for one visit: registered once in the EPJ, accepted, answered 08 in its thread."""
    world = running
    citizen, visits = activate_with_visits(world)
    visit = visits[1]
    request = world.portal.send_cancellation(
        world.municipality, world.service, citizen, uid=visit.uid, start=visit.start,
        end=visit.end, reason="Jeg er hos datteren min.", on_behalf_of=RELATIVE)
    world.portal.wait_for_receipt(request.msg_id, timeout=15)
    eventually(lambda: registered(world, request.msg_id), timeout=15,
               what="the cancellation registered in the EPJ")
    world.harness.decide_cancellations(accept=True)
    answer = world.portal.wait_for(function=Function.CANCELLATION_REPLY,
                                   thread=request.msg_id, timeout=15)[0]
    assert answer.message.code == "08"
    assert answer.message.conversation is not None
    assert answer.message.conversation.parent == request.msg_id
    assert [a.uid for a in answer.message.appointments] == [visit.uid]
    assert answer.message.appointments[0].status is AppointmentStatus.CANCELLED
    assert world.harness.cancellations(request.msg_id) == 1
    world.portal.assert_no_violations()


def test_a_period_over_two_services_is_registered_and_rejected(running: World) -> None:
    """ART for a period in both services: registered, rejected by staff, answered 09."""
    world = running
    citizen, _ = activate_with_visits(world)
    start = tomorrow_at(0)
    request = world.portal.send_period_cancellation(
        world.municipality, world.service, citizen, start=start, end=start + timedelta(days=1),
        service_ids=[world.service_code, world.second_service_code], reason="Ferie.")
    world.portal.wait_for_receipt(request.msg_id, timeout=15)
    eventually(lambda: registered(world, request.msg_id), timeout=15,
               what="the period cancellation registered in the EPJ")
    world.harness.decide_cancellations(accept=False)
    answer = world.portal.wait_for(function=Function.CANCELLATION_REPLY,
                                   thread=request.msg_id, timeout=15)[0]
    assert answer.message.code == "09"
    assert answer.message.appointments == ()
    world.portal.assert_no_violations()


def test_cancellations_that_cannot_be_made_are_answered_09_at_once(running: World) -> None:
    """Someone else's visit, an unknown one, a past period: 09 with a reason, nothing in the
    EPJ; the messages behind them flow."""
    world = running
    citizen, visits = activate_with_visits(world)
    other = world.citizens[1]
    theirs = world.portal.send_cancellation(
        world.municipality, world.service, other, uid=visits[0].uid, start=visits[0].start,
        end=visits[0].end)
    unknown = world.portal.send_cancellation(
        world.municipality, world.service, citizen, uid="no-such-visit",
        start=tomorrow_at(9), end=tomorrow_at(10))
    past = tomorrow_at(0) - timedelta(days=3)
    over = world.portal.send_period_cancellation(
        world.municipality, world.service, citizen, start=past, end=past + timedelta(days=1),
        service_ids=[world.service_code])
    for request in (theirs, unknown, over):
        answer = world.portal.wait_for(function=Function.CANCELLATION_REPLY,
                                       thread=request.msg_id, timeout=15)[0]
        assert answer.message.code == "09"
        assert answer.message.body
        assert world.harness.cancellations(request.msg_id) == 0
    world.portal.assert_no_violations()


def register_proxy(world: World, citizen: str, scope: ProxyScope, valid_to: date | None) -> None:
    """The municipality registers what the relative may do for the citizen."""
    proxy = Proxy(holder=RELATIVE.to_person(), citizen_id=citizen, relation=RELATIVE.relation,
                  scope=scope, valid_from=date(2020, 1, 1), valid_to=valid_to)
    with world.store.transaction() as conn:
        world.store.proxies.put(conn, world.municipality, proxy)


def test_a_relative_is_held_to_the_proxy_the_municipality_registered(running: World) -> None:
    """Appointments only: may cancel, may not write (30). Expired: may not cancel (30)."""
    world = running
    citizen, visits = activate_with_visits(world)
    register_proxy(world, citizen, ProxyScope.APPOINTMENTS_AND_PRACTITIONERS, None)
    message = world.portal.send_proxy_message(world.municipality, world.service, citizen,
                                              RELATIVE)
    refused = world.portal.wait_for(function=Function.REFUSAL, thread=message.msg_id,
                                    timeout=15)[0]
    assert refused.message.code == "30"
    allowed = world.portal.send_cancellation(
        world.municipality, world.service, citizen, uid=visits[0].uid, start=visits[0].start,
        end=visits[0].end, on_behalf_of=RELATIVE)
    eventually(lambda: registered(world, allowed.msg_id), timeout=15,
               what="the relative's cancellation registered")

    register_proxy(world, citizen, ProxyScope.ALL, date(2021, 1, 1))
    expired = world.portal.send_cancellation(
        world.municipality, world.service, citizen, uid=visits[1].uid, start=visits[1].start,
        end=visits[1].end, on_behalf_of=RELATIVE)
    answer = world.portal.wait_for(function=Function.REFUSAL, thread=expired.msg_id,
                                   timeout=15)[0]
    assert answer.message.code == "30"
    assert world.harness.cancellations(expired.msg_id) == 0
    assert [d for d in world.harness.delivered_messages()
            if d["message_id"] == message.msg_id] == []
    world.portal.assert_no_violations()


@pytest.mark.parametrize("vendor", ["profil"])
def test_a_visit_in_the_repeated_autumn_hour_arrives_at_the_right_instant(
        showing_completed: World) -> None:
    """Profil speaks Oslo wall-clock time: both passes of 02:30 on 25 October stay apart in
    the store and in the MOA, which carries the instant of the pass that was done."""
    world = showing_completed
    citizen = world.citizens[0]
    visits = world.harness.seed_dst_visits(citizen)
    active = world.portal.send_digital_status(world.municipality, citizen, DigitalStatus.ACTIVE)
    world.portal.wait_for_receipt(active.msg_id, timeout=15)
    for visit in visits:
        # Reading on first contact covers six weeks around today; these are fixed dates,
        # so they come in through the EPJ's change mechanism when done.
        world.harness.complete_visit(citizen, visit.uid)
    notices = world.portal.wait_for(function=Function.APPOINTMENT_NOTICE, code="MOA",
                                    citizen=citizen, count=len(visits), timeout=20)
    by_uid = {n.message.appointments[0].uid: n.message.appointments[0] for n in notices}
    for visit in visits:
        assert by_uid[visit.uid].start == visit.start
        assert by_uid[visit.uid].end == visit.end
        stored = world.store.appointments.get(world.municipality, visit.uid)
        assert stored is not None and stored.appointment.start == visit.start
    first, second = visits[0], visits[1]
    wall = [to_oslo(by_uid[v.uid].start).replace(tzinfo=None) for v in (first, second)]
    assert wall[0] == wall[1], "both passes show the same wall-clock time"
    assert by_uid[second.uid].start - by_uid[first.uid].start == timedelta(hours=1)
    world.portal.assert_no_violations()


def test_a_cancellation_delivered_twice_is_registered_and_answered_once(running: World) -> None:
    """The broker repeats the ART: one cancellation in the EPJ, one AppRec, one answer."""
    world = running
    citizen, visits = activate_with_visits(world)
    request = world.portal.send_cancellation(
        world.municipality, world.service, citizen, uid=visits[2].uid, start=visits[2].start,
        end=visits[2].end)
    world.portal.send_envelope(request.queue, request.envelope, request.message)
    eventually(lambda: registered(world, request.msg_id), timeout=15,
               what="the cancellation registered in the EPJ")
    world.harness.decide_cancellations(accept=True)
    world.portal.wait_for(function=Function.CANCELLATION_REPLY, thread=request.msg_id,
                          timeout=15)
    # A citizen message sent now is handled after anything the repeat could still cause.
    last = world.portal.send_citizen_message(world.municipality, world.service, citizen)
    world.portal.wait_for_receipt(last.msg_id, timeout=15)
    world.engine.run_until_idle()
    assert world.harness.cancellations(request.msg_id) == 1
    assert len(world.portal.receipts_for(request.msg_id)) == 1
    assert len(world.portal.received(Function.CANCELLATION_REPLY, thread=request.msg_id)) == 1
    world.portal.assert_no_violations()


def test_a_visit_done_read_twice_from_the_feed_is_pushed_once(showing_completed: World) -> None:
    """The checkpoint is lost and the feed read again from its start: one MOA still."""
    world = showing_completed
    citizen, visits = activate_with_visits(world)
    world.harness.complete_visit(citizen, visits[0].uid)
    world.portal.wait_for(function=Function.APPOINTMENT_NOTICE, code="MOA", timeout=15)
    world.stop_engine()
    with world.store.transaction() as conn:
        world.store.checkpoints.put(conn, world.municipality, CHECKPOINT, None)
    world.start_engine()
    eventually(lambda: world.store.checkpoints.get(world.municipality, CHECKPOINT),
               timeout=15, what="the feed read again")
    world.harness.complete_visit(citizen, visits[1].uid)
    arrived = world.portal.wait_for(function=Function.APPOINTMENT_NOTICE, code="MOA",
                                    count=2, timeout=15)
    world.engine.run_until_idle()
    assert sorted(n.message.appointments[0].uid for n in arrived) == \
        sorted([visits[0].uid, visits[1].uid])
    assert len(world.portal.received(Function.APPOINTMENT_NOTICE)) == 2
    world.portal.assert_no_violations()


def test_a_moved_visit_and_one_cancelled_by_the_service_reach_the_portal(running: World) -> None:
    """Staff move one visit (07, the new time) and cancel another (08, by the service);
    each reaches the portal once, through the vendor's own change mechanism."""
    world = running
    citizen, visits = activate_with_visits(world)
    moved, cancelled = visits[0], visits[1]
    later = moved.start + timedelta(hours=5)
    world.harness.change_visit(citizen, moved.uid, start=later, end=later + timedelta(minutes=30))
    world.harness.cancel_visit(citizen, cancelled.uid)
    changed = world.portal.wait_for(function=Function.APPOINTMENT_NOTICE, code="07",
                                    citizen=citizen, timeout=15)[0]
    assert changed.message.appointments[0].uid == moved.uid
    assert changed.message.appointments[0].start == later
    off = world.portal.wait_for(function=Function.APPOINTMENT_NOTICE, code="08",
                                citizen=citizen, timeout=15)[0]
    visit = off.message.appointments[0]
    assert visit.uid == cancelled.uid
    assert visit.status is AppointmentStatus.CANCELLED
    assert visit.cancellation_reason is CancellationReason.BY_SERVICE
    world.engine.run_until_idle()
    assert len(world.portal.received(Function.APPOINTMENT_NOTICE)) == 2
    world.portal.assert_no_violations()


@pytest.mark.parametrize("vendor", ["cosdoc"])
def test_a_visit_with_sami_text_arrives_intact(showing_completed: World) -> None:
    """CosDoc's Latin-1 documents carry Sámi letters as character references: none is lost
    on the way to the store and the portal."""
    world = showing_completed
    citizen, _ = activate_with_visits(world, count=1)
    text = "Ŋuđđi boahtá iđđes: dárkkist dálkkasiid."
    start = tomorrow_at(14)
    uid = world.harness.seed_visit(citizen, status=AppointmentStatus.ASSIGNED, start=start,
                                   end=start + timedelta(minutes=30),
                                   service_code=world.service_code, text=text)
    eventually(lambda: world.store.appointments.get(world.municipality, uid), timeout=15,
               what="the new visit in the store")
    stored = world.store.appointments.get(world.municipality, uid)
    assert stored is not None and stored.appointment.description == text
    world.harness.complete_visit(citizen, uid)
    done = world.portal.wait_for(function=Function.APPOINTMENT_NOTICE, code="MOA",
                                 citizen=citizen, timeout=15)[0]
    assert done.message.appointments[0].description == text
    world.portal.assert_no_violations()
