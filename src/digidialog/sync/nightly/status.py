"""Parts two and three of a run: ask the portal who is digitally active, and wait for it.

``status`` sends the run's recipients to the portal as ``SIDAB`` questions of
up to ``query_batch`` persons each, every question a keyed outbox job,
recorded in the same transaction as the cursor (the last national id asked
about), so a resumed run asks about nobody twice. The answers (``28`` listing
the active ones, ``29`` none) come back through the inbox and are recorded by
:mod:`.replies`, which also tells the EPJ.

``answers`` waits until every question is answered and the EPJ has been told,
or ``answer_timeout`` has passed: then the run goes on with what it knows,
and answers arriving later are still recorded when they come.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import Connection

from digidialog.errors import SchemaViolation
from digidialog.helsenorge import encode
from digidialog.log import get_logger
from digidialog.store import NightlyCitizen
from digidialog.sync import jobs
from digidialog.sync.context import Municipality
from digidialog.sync.nightly import messages
from digidialog.sync.nightly.context import NightlyContext, RunState
from digidialog.sync.nightly.replies import EPJ_STATUS_BATCH

log = get_logger("sync.nightly")

ASK = "status"
WAIT = "answers"


def ask_status(ctx: NightlyContext, state: RunState, next_part: str) -> None:
    """Send SIDAB questions about every recipient the run listed, after the cursor."""
    store, m = ctx.store, ctx.municipality
    cursor = state.cursor if state.part == ASK else None
    total = store.nightly.citizens.count(m.her_id, state.id)
    ctx.progress.begin(m.her_id, ASK, total)
    while True:
        ctx.check_stop()
        batch = store.nightly.citizens.page(m.her_id, after=cursor,
                                            limit=ctx.settings.query_batch, run_id=state.id)
        if not batch:
            break
        now = ctx.clock()
        key = f"sidab:{m.her_id}:{state.id}:{batch[0].citizen_id}"
        with store.transaction() as conn:
            asked = _ask(ctx, state, conn, key, batch, now)
            cursor = batch[-1].citizen_id
            state.checkpoint(conn, ASK, cursor)
        ctx.progress.advance(m.her_id, ASK, len(batch))
        if asked < len(batch):
            log.warning("nightly_persons_unwritable", municipality=m.her_id, run=state.id,
                        left_out=len(batch) - asked)
    with store.transaction() as conn:
        state.checkpoint(conn, next_part, None)
    ctx.progress.end(m.her_id, ASK, state.of(ASK))


def _ask(ctx: NightlyContext, state: RunState, conn: Connection, key: str,
         batch: list[NightlyCitizen], now: datetime) -> int:
    """Add the question about ``batch``; how many persons it names.

    A person the EPJ lists with a name XML cannot carry (a control character)
    would make the whole question unwritable: such persons are left out (and
    counted), the others asked.
    """
    store, m = ctx.store, ctx.municipality
    try:
        question = messages.status_question(m, batch, now)
        made = jobs.enqueue_portal_message(store, conn, municipality=m.her_id, key=key,
                                           message=question, portal_her_id=m.portal_her_id,
                                           at=now)
    except SchemaViolation:
        writable = [c for c in batch if _writable(m, c, now)]
        if len(writable) == len(batch):  # not a person's fault: the run stops with it
            raise
        state.count(ASK, "unwritable", len(batch) - len(writable))
        return _ask(ctx, state, conn, key, writable, now) if writable else 0
    if made is not None:
        store.nightly.queries.record(conn, msg_id=question.msg_id, municipality=m.her_id,
                                     run_id=state.id,
                                     citizen_ids=[c.citizen_id for c in batch], at=now)
        state.count(ASK, "questions")
        state.count(ASK, "asked", len(batch))
    return len(batch)


def _writable(m: Municipality, citizen: NightlyCitizen, now: datetime) -> bool:
    try:
        encode(messages.status_question(m, [citizen], now))
    except SchemaViolation:
        return False
    return True


def await_answers(ctx: NightlyContext, state: RunState, next_part: str) -> None:
    """Wait for the portal's answers and for the EPJ to be told (at most ``answer_timeout``)."""
    store, m = ctx.store, ctx.municipality
    asked = state.of(ASK).get("questions", 0)
    ctx.progress.begin(m.her_id, WAIT, asked)
    deadline = time.monotonic() + ctx.settings.answer_timeout
    shown = 0
    while True:
        waiting = store.nightly.queries.waiting(state.id)
        answered = asked - waiting
        if answered > shown:
            ctx.progress.advance(m.her_id, WAIT, answered - shown)
            shown = answered
        if waiting == 0 and store.nightly.queries.jobs_waiting(m.her_id, EPJ_STATUS_BATCH) == 0:
            break
        if time.monotonic() >= deadline:
            log.warning("nightly_answers_missing", municipality=m.her_id, run=state.id,
                        unanswered=waiting, waited=ctx.settings.answer_timeout)
            break
        state.keep_lease()
        ctx.idle()
    state.set_count(WAIT, "unanswered", store.nightly.queries.waiting(state.id))
    state.set_count(WAIT, "active", store.nightly.citizens.active_count(m.her_id, state.id))
    with store.transaction() as conn:
        state.checkpoint(conn, next_part, None)
    ctx.progress.end(m.her_id, WAIT, state.of(WAIT))
