"""The EPJ's change feed (or what it pushed) into the outbox, from a stored checkpoint.

A batch is taken in one transaction: each event not seen before becomes an
``epj.event`` job, and the checkpoint moves past the batch. Only after that
commit is the EPJ told the batch is stored (``acknowledge``), so a crash
anywhere means reading the batch again, and the seen-events table makes the
second reading a no-op.
"""

from __future__ import annotations

from pydantic import TypeAdapter

from digidialog.domain.events import EpjEvent
from digidialog.log import get_logger
from digidialog.store import Store
from digidialog.sync import jobs
from digidialog.sync.context import Municipality

log = get_logger("sync.follower")

CHECKPOINT = "epj.changes"
_EVENT = TypeAdapter[EpjEvent](EpjEvent)


def follow_once(store: Store, municipality: Municipality, *, limit: int = 500) -> tuple[int, bool]:
    """Take one batch of changes; how many events were new, and whether more are waiting."""
    checkpoint = store.checkpoints.get(municipality.her_id, CHECKPOINT)
    batch = municipality.adapter.changes(checkpoint, limit=limit)
    new = 0
    with store.transaction() as conn:
        for event in batch.events:
            if not store.events.first_time(conn, municipality.her_id, event.event_id):
                continue
            store.outbox.add(conn, municipality=municipality.her_id, kind=jobs.EPJ_EVENT,
                             key=f"event:{municipality.her_id}:{event.event_id}",
                             payload=_EVENT.dump_json(event),
                             meta={"event_kind": event.kind.value})
            new += 1
        if batch.checkpoint is not None:
            store.checkpoints.put(conn, municipality.her_id, CHECKPOINT, batch.checkpoint)
    municipality.adapter.acknowledge(batch)
    if batch.events:
        log.info("epj changes taken", events=len(batch.events), new=new, more=batch.more)
    return new, batch.more
