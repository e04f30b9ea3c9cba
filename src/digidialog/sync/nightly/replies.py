"""The portal's answers to the nightly status questions (``28``/``29``), and telling the EPJ.

An answer names the question it answers (RefToParent = the SIDAB's MsgId):
``28`` lists the digitally active persons, so everyone else the question
named is inactive; ``29`` says none of them is. In one transaction the
handler sends the AppRec, records each citizen whose status changed (a
status that did not change is not written again, so the store keeps when it
last changed: that is what the welcome part reads), adds one outbox job that
tells the EPJ about every citizen whose EPJ flag differs, and marks the
question answered. An answer to no question we asked is acknowledged and
ignored: without the question, those it leaves out cannot be told apart
from those never asked about.

:func:`push_statuses` carries out that job: one ``set_digital_status`` call
for the whole batch, which the vendors take as one request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import TypeAdapter
from sqlalchemy import Connection

from digidialog.adapters.contract import DigitalStatusUpdate
from digidialog.domain import to_oslo
from digidialog.helsenorge import PortalMessage
from digidialog.log import get_logger
from digidialog.store import Store, WorkItem
from digidialog.sync import jobs, outgoing
from digidialog.sync.context import Municipality
from digidialog.sync.header import Header

log = get_logger("sync.nightly")

EPJ_STATUS_BATCH = "epj.digital-status-batch"
"""Outbox kind: tell the EPJ the digital status of a batch of citizens at once."""
SOURCE = "SIDAB"
"""``source`` of a status learnt from the nightly question."""

_UPDATES = TypeAdapter(list[DigitalStatusUpdate])


class StatusReplies:
    """Handles one municipality's ``28``/``29`` answers from its inbox."""

    def __init__(self, store: Store, municipality: Municipality,
                 clock: Callable[[], datetime]) -> None:
        self.store = store
        self.m = municipality
        self.clock = clock

    def handle(self, item: WorkItem, message: PortalMessage, owner: str) -> None:
        """Record the answer, tell the EPJ what changed, acknowledge: all or nothing."""
        store, her_id = self.store, self.m.her_id
        now = self.clock()
        asked = message.conversation.parent if message.conversation else None
        with store.transaction() as conn:
            if message.ack:
                jobs.enqueue_portal_message(
                    store, conn, municipality=her_id, key=f"apprec:{message.msg_id}",
                    message=outgoing.application_receipt(Header.of(message), now),
                    portal_her_id=self.m.portal_her_id, at=now)
            question = None if asked is None else store.nightly.queries.get(asked, conn)
            changed = told = 0
            if question is not None and store.nightly.queries.answer(conn, question.msg_id,
                                                                     message.code, now):
                changed, told = self._record(conn, question.citizens, message, now)
            store.inbox.complete(conn, item.id, owner)
        if question is None:
            log.warning("status answer to no question asked", msg_id=message.msg_id,
                        answers=asked)
            return
        log.info("status answer recorded", msg_id=message.msg_id, question=question.msg_id,
                 code=message.code, asked=len(question.citizens), changed=changed,
                 epj_told=told)

    def _record(self, conn: Connection, asked: tuple[str, ...], message: PortalMessage,
                now: datetime) -> tuple[int, int]:
        store, her_id = self.store, self.m.her_id
        active = {p.id for p in message.persons} if message.code == "28" else set()
        known = store.nightly.citizens.statuses(her_id, asked, conn)
        changed = [(citizen, citizen in active) for citizen in asked
                   if (before := known.get(citizen)) is None
                   or before.active != (citizen in active)]
        store.nightly.citizens.set_statuses(conn, her_id, changed, now, SOURCE)
        flags = store.nightly.citizens.epj_flags(conn, her_id, asked)
        since = to_oslo(now).date()
        updates = [DigitalStatusUpdate(national_id=c, active=c in active, since=since)
                   for c in asked if flags.get(c) is not None and flags[c] != (c in active)]
        if updates:
            store.outbox.add(conn, municipality=her_id, kind=EPJ_STATUS_BATCH,
                             key=f"status-batch:{message.msg_id}",
                             payload=_UPDATES.dump_json(updates), meta={"count": len(updates)})
            for flag in (True, False):
                store.nightly.citizens.set_epj_active(
                    conn, her_id, [u.national_id for u in updates if u.active is flag], flag)
        return len(changed), len(updates)


def push_statuses(store: Store, municipality: Municipality) -> Callable[[WorkItem, str], None]:
    """The outbox work of :data:`EPJ_STATUS_BATCH`: one call to the EPJ for the batch."""

    def work(item: WorkItem, owner: str) -> None:
        updates = _UPDATES.validate_json(item.payload)
        updated = municipality.adapter.set_digital_status(updates)
        with store.transaction() as conn:
            store.outbox.complete(conn, item.id, owner)
        log.info("digital status told to EPJ", job=item.id, updates=len(updates),
                 updated=updated)

    return work
