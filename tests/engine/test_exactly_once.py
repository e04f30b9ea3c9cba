"""Exactly one effect, whatever the broker repeats and wherever the daemon dies (issues 8, 11).

Delivered twice by the broker (the same bytes again, or the same MsgId under
another AMQP message-id); a daemon dying after it stored a delivery but before
it settled it; a daemon dying after the EPJ stored a message but before the
job was marked done; the EPJ's feed read twice: each ends with one message in
the EPJ or at the portal, and one AppRec.

To see that a repeat had no effect, the tests send one more message after it
and wait for that one: the engine works its queues oldest first, so whatever
the repeat would have caused comes before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from digidialog.helsenorge import Function
from digidialog.store import WorkItem
from digidialog.sync.follower import CHECKPOINT
from digidialog.sync.jobs import inbox_key
from digidialog.testing.portal import Sent
from tests.engine.faults import (
    Deaths,
    DiesBeforeSettling,
    RecordingTransport,
    WatchedAdapter,
    engine_like,
    restart,
    start,
)
from tests.engine.world import World, eventually, world


@pytest.fixture
def gerica(backend: str, tmp_path: Path) -> Iterator[World]:
    """A started world with one vendor: what the broker repeats is the vendor's no concern."""
    with world("gerica", backend, tmp_path) as started:
        yield started


def in_epj(world: World, msg_id: str) -> int:
    """How many messages the EPJ holds under our ``msg_id``."""
    return sum(1 for m in world.harness.delivered_messages() if m["message_id"] == msg_id)


def send(world: World, body: str) -> Sent:
    """The first citizen writes ``body`` to the service."""
    return world.portal.send_citizen_message(world.municipality, world.service,
                                             world.citizens[0], body=body)


def after_everything_before(world: World) -> None:
    """Send one more message and wait until it is in the EPJ and acknowledged: what came
    before it has then had every effect it will have."""
    last = send(world, "Og en siste ting.")
    assert last.msg_id is not None
    world.portal.wait_for_receipt(last.msg_id, timeout=15)
    eventually(lambda: in_epj(world, last.msg_id or ""), what="the last message in the EPJ")


def assert_one_effect(world: World, sent: Sent) -> None:
    """``sent`` is in the EPJ once and was acknowledged once, with OK."""
    assert sent.msg_id is not None
    after_everything_before(world)
    assert in_epj(world, sent.msg_id) == 1
    receipts = world.portal.receipts_for(sent.msg_id)
    assert len(receipts) == 1, f"{len(receipts)} AppRecs"
    assert receipts[0].message.receipt is not None
    assert receipts[0].message.receipt.status.value == "ok"
    world.portal.assert_no_violations()


def stored(world: World, msg_id: str) -> WorkItem | None:
    """The inbox item of the portal message ``msg_id``."""
    return world.store.inbox.get_by_key(inbox_key(world.municipality, msg_id, b""))


def test_a_message_the_broker_delivers_twice_has_one_effect(gerica: World) -> None:
    """The same bytes under the same AMQP message-id, and the same MsgId under a new one:
    one message in the EPJ, one AppRec."""
    world = gerica
    sent = send(world, "Kan dere ta med resepten?")
    world.portal.send_envelope(sent.queue, sent.envelope, sent.message)
    assert sent.message is not None
    again = world.portal.send_message(sent.message)
    assert again.envelope.message_id != sent.envelope.message_id
    assert_one_effect(world, sent)


def test_a_daemon_dying_between_storing_and_settling_has_one_effect(gerica: World) -> None:
    """The receiver stores the message and dies before it settles; the broker hands the
    delivery back, and a restarted daemon finds it stored already: one effect."""
    world = gerica
    world.stop_engine()
    deaths = Deaths()
    doomed = start(engine_like(world, owner="doomed", transport=lambda: DiesBeforeSettling(
        world.transport_factory(), deaths)), only="receive:")
    sent = send(world, "Kan dere ringe på først?")
    assert sent.msg_id is not None
    eventually(lambda: doomed.died, what="the receiver to die")
    doomed.halt()
    item = stored(world, sent.msg_id)
    assert item is not None and item.state == "pending", "stored before it died"

    seen: list[tuple[str, bool]] = []
    restart(world, engine_like(world, owner="restarted", transport=lambda: RecordingTransport(
        world.transport_factory(), seen)))
    assert_one_effect(world, sent)
    assert (sent.envelope.message_id, True) in seen, "the broker handed the delivery back"


def test_a_daemon_dying_after_the_epj_stored_a_message_delivers_it_once(running: World) -> None:
    """The EPJ takes the message and the daemon dies before the job is marked done; the
    restarted daemon delivers it again, and the vendor's idempotency keeps one."""
    world = running
    world.stop_engine()
    adapter = world.engine.municipalities[0].adapter
    doomed = start(engine_like(world, owner="doomed",
                               adapter=WatchedAdapter(adapter, Deaths())))
    sent = send(world, "Kan dere se på såret i dag?")
    msg_id = sent.msg_id
    assert msg_id is not None
    eventually(lambda: doomed.died, what="the worker to die")
    doomed.halt()
    assert in_epj(world, msg_id) == 1, "the EPJ stored it before the daemon died"
    job = world.store.outbox.get_by_key(f"deliver:{msg_id}")
    assert job is not None and job.state == "pending", "the job was not marked done"

    watched = WatchedAdapter(adapter)
    restart(world, engine_like(world, owner="restarted", adapter=watched))
    eventually(lambda: (done := world.store.outbox.get(job.id)) is not None
               and done.state == "done", what="the delivery job done")
    assert watched.delivered == [msg_id], "the restarted daemon delivered it again"
    assert_one_effect(world, sent)


def test_a_staff_message_read_twice_from_the_feed_reaches_the_portal_once(
        running: World) -> None:
    """The checkpoint is lost (a restore from backup) and the daemon restarts: the feed is
    read again from its start, and the staff message is still sent once."""
    world = running
    citizen = world.citizens[0]
    world.harness.write_staff_message(citizen, "Husk legetimen på torsdag.")
    world.portal.wait_for(function=Function.SERVICE_MESSAGE, citizen=citizen, timeout=15)
    world.stop_engine()
    with world.store.transaction() as conn:
        world.store.checkpoints.put(conn, world.municipality, CHECKPOINT, None)

    adapter = world.engine.municipalities[0].adapter
    watched = WatchedAdapter(adapter)
    restart(world, engine_like(world, owner="restarted", adapter=watched))
    eventually(lambda: world.store.checkpoints.get(world.municipality, CHECKPOINT),
               what="the feed read again")
    assert watched.events, "the feed gave its events again"
    world.harness.write_staff_message(citizen, "Og ta med medisinlisten.")
    arrived = world.portal.wait_for(function=Function.SERVICE_MESSAGE, citizen=citizen,
                                    count=2, timeout=15)
    assert [r.message.body for r in arrived] == ["Husk legetimen på torsdag.",
                                                 "Og ta med medisinlisten."]
    world.portal.assert_no_violations()
