"""An AppRec that comes back before the sender noted it is awaited still settles it (issue 11).

The portal answers a message at once. With two daemons (or one restarted
after a kill between sending and noting), the AppRec may be taken in and
handled by the other daemon before the sender's transaction that awaits it
commits. Before the fix the receipt was awaited only after the send: the
AppRec found nothing awaited, and the message stayed "awaiting its AppRec"
forever (a negative one, E35, would have been lost the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from digidialog.helsenorge import Function
from digidialog.sync.jobs import inbox_key, message_key
from digidialog.transport import Delivery, Envelope, Transport
from tests.engine.faults import engine_like, start
from tests.engine.world import World, eventually, world


@pytest.fixture
def gerica(backend: str, tmp_path: Path) -> Iterator[World]:
    """A started world; its own engine is stopped by the test."""
    with world("gerica", backend, tmp_path) as started:
        yield started


class AnsweredBeforeNoted:
    """A transport whose sends return only once ``answered`` says the portal's AppRec about
    the message was handled elsewhere: the worst order the race can take."""

    def __init__(self, inner: Transport, answered: Callable[[str], None]) -> None:
        self._inner = inner
        self._answered = answered

    def send(self, queue: str, envelope: Envelope) -> None:
        self._inner.send(queue, envelope)
        if queue.endswith("_async") and envelope.subject != "APPREC":
            self._answered(envelope.message_id)

    def receive(self, queue: str, timeout: float) -> Delivery | None:
        return self._inner.receive(queue, timeout)

    def close(self) -> None:
        self._inner.close()


def apprec_handled(world: World, msg_id: str) -> bool:
    """Whether the portal's AppRec about ``msg_id`` is in the inbox and handled."""
    for sent in world.portal.sent():
        receipt = sent.message.receipt if sent.message else None
        if receipt is not None and receipt.original_msg_id == msg_id:
            # Stored under its Id, or (read as no MsgHead) under its bytes.
            keys = (message_key(world.municipality, sent.message.msg_id),
                    inbox_key(world.municipality, None, sent.envelope.body,
                              sent.envelope.message_id))
            items = [world.store.inbox.get_by_key(key) for key in keys]
            return any(item is not None and item.state == "done" for item in items)
    return False


def test_an_apprec_handled_before_the_sender_noted_it_settles_the_message(
        gerica: World) -> None:
    """Staff write; the sending daemon's send returns only after the other daemon took in
    and handled the portal's AppRec. The message's receipt is settled, not awaited forever."""
    world = gerica
    world.stop_engine()
    other = engine_like(world, owner="other")

    def other_daemon_handles_the_apprec(msg_id: str) -> None:
        def handled() -> bool:
            other.step()
            return apprec_handled(world, msg_id)
        eventually(handled, timeout=15, what="the other daemon to handle the AppRec")

    sender = engine_like(world, owner="sender", transport=lambda: AnsweredBeforeNoted(
        world.transport_factory(), other_daemon_handles_the_apprec))
    running = [start(sender, only="work:"), start(sender, only="follow:")]
    try:
        citizen = world.citizens[0]
        world.harness.write_staff_message(citizen, "Vi kommer klokken ti.")
        [sent] = world.portal.wait_for(function=Function.SERVICE_MESSAGE, citizen=citizen,
                                       timeout=20)
        eventually(lambda: apprec_handled(world, sent.msg_id), timeout=20,
                   what="the AppRec handled")
        eventually(lambda: sum(world.store.outbox.depth(world.municipality)[state]
                               for state in ("pending", "leased")) == 0 or None,
                   timeout=20, what="the send job done")
        receipt = world.store.receipts.get(sent.msg_id)
        assert receipt is not None
        assert receipt.resolved_at is not None, "the AppRec found nothing awaited"
        assert receipt.status == "ok"
        assert world.store.receipts.pending(world.municipality) == []
    finally:
        for each in running:
            each.halt()
