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

from digidialog.log import get_logger
from digidialog.sync import jobs
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
        question = messages.status_question(m, batch, now)
        ids = [c.citizen_id for c in batch]
        with store.transaction() as conn:
            made = jobs.enqueue_portal_message(
                store, conn, municipality=m.her_id, key=f"sidab:{m.her_id}:{state.id}:{ids[0]}",
                message=question, portal_her_id=m.portal_her_id, at=now)
            if made is not None:
                store.nightly.queries.record(conn, msg_id=question.msg_id,
                                             municipality=m.her_id, run_id=state.id,
                                             citizen_ids=ids, at=now)
                state.count(ASK, "questions")
                state.count(ASK, "asked", len(ids))
            cursor = ids[-1]
            state.checkpoint(conn, ASK, cursor)
        ctx.progress.advance(m.her_id, ASK, len(ids))
    with store.transaction() as conn:
        state.checkpoint(conn, next_part, None)
    ctx.progress.end(m.her_id, ASK, state.of(ASK))


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
