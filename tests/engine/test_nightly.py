"""The nightly job end to end, for every vendor, on SQLite + embedded and PostgreSQL + RabbitMQ.

A citizen becomes digitally active during the day (SDAB, passed to the EPJ at
once); at night the engine asks the portal about every service recipient
(SIDAB), records the 28 answer in the EPJ, sends each active citizen's
service overview, welcomes the newly active, and reads every active
citizen's appointments into the store. A second night sends nothing that did
not change; a third welcomes and tells the citizen who became active since.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from digidialog.domain import DigitalStatus
from digidialog.domain.timezone import OSLO
from digidialog.helsenorge import Function
from tests.engine.nightly_support import (
    WELCOME,
    run,
    sent_to_portal,
    services_in,
    stale_visit,
    tomorrow_at,
)
from tests.engine.world import World, eventually, world


@pytest.fixture
def three(vendor: str, backend: str, tmp_path: Path) -> Iterator[World]:
    """A started world with three service recipients."""
    with world(vendor, backend, tmp_path, citizens=3) as started:
        yield started


def counted(values: dict[str, int]) -> dict[str, int]:
    """A part's counts without the time it took."""
    return {key: value for key, value in values.items() if key != "seconds"}


def stored_uids(world: World, citizen: str) -> set[str]:
    """The uids of the citizen's appointments the store holds."""
    return {s.appointment.uid for s in world.store.appointments.of_citizen(
        world.municipality, citizen)}


def test_the_nightly_job_reconciles_every_part(three: World) -> None:
    """Digital status both ways, overviews, welcome and appointments, then only changes."""
    world = three
    m, store, portal, harness = world.municipality, world.store, world.portal, world.harness
    consented, active, inactive = world.citizens

    # During the day: an SDAB is applied at once and passed to the EPJ.
    portal.send_digital_status(m, consented, DigitalStatus.ACTIVE)
    eventually(lambda: harness.digitally_active(consented), timeout=15,
               what="the SDAB passed to the EPJ at once")
    portal.declare_digitally_active(consented, active)
    visits = {c: {v.uid for v in harness.seed_visits(c, 3, tomorrow_at(8))}
              for c in world.citizens}
    with store.transaction() as conn:
        store.appointments.put(conn, m, active, stale_visit(world.service_code),
                               changed_at=datetime.now(UTC) - timedelta(hours=1))

    first = run(world)

    questions = portal.status_questions()
    assert len(questions) == 2, "three recipients, two to a question"
    assert sorted(p.id for q in questions for p in q.message.persons) == sorted(world.citizens)
    assert counted(first.counts["status"]) == {"questions": 2, "asked": 3}
    assert store.citizens.status(m, active) is not None
    assert store.citizens.is_inactive(m, inactive)
    assert [harness.digitally_active(c) for c in world.citizens] == [True, True, False]

    overviews = portal.wait_for(function=Function.SERVICE_OVERVIEW, count=2, timeout=20)
    assert {o.citizen_id for o in overviews} == {consented, active}
    both = sorted([(world.service_code, world.service),
                   (world.second_service_code, world.second_service)])
    assert all(sorted(services_in(o)) == both for o in overviews)
    assert all(o.message.services[0].start == datetime.now(OSLO).date() for o in overviews)

    [welcome] = portal.wait_for(function=Function.SERVICE_NOTICE, timeout=20)
    assert welcome.citizen_id == consented, "the first run welcomes only SDAB's newly active"
    assert welcome.message.body == WELCOME and welcome.message.code == "EKI"

    assert stored_uids(world, consented) == visits[consented]
    assert stored_uids(world, active) == visits[active], "the stale visit is gone"
    assert stored_uids(world, inactive) == set()
    assert store.appointments.window_read(m, active) is not None
    assert counted(first.counts["answers"]) == {"unanswered": 0, "active": 2}

    # The next night: nothing changed, nothing is sent but the question.
    run(world)
    eventually(lambda: len(portal.status_questions()) == 4, what="the second night's questions")
    assert len(sent_to_portal(world, Function.SERVICE_OVERVIEW)) == 2
    assert len(sent_to_portal(world, Function.SERVICE_NOTICE)) == 1

    # The inactive citizen consents: the next night tells and welcomes them.
    portal.declare_digitally_active(inactive)
    third = run(world)
    assert counted(third.counts["welcome"]) == {"welcomed": 1}
    late = portal.wait_for(function=Function.SERVICE_OVERVIEW, citizen=inactive, timeout=20)
    assert sorted(services_in(late[0])) == both
    notices = portal.wait_for(function=Function.SERVICE_NOTICE, count=2, timeout=20)
    assert [n.citizen_id for n in notices] == [consented, inactive]
    assert harness.digitally_active(inactive)
    assert stored_uids(world, inactive) == visits[inactive]
    assert not [r for r in portal.received() if r.duplicate]
    eventually(lambda: not store.receipts.pending(m), timeout=20,
               what="every AppRec from the portal resolved")
    portal.assert_no_violations()
