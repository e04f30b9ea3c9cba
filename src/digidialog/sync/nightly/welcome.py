"""Part five of a run: the municipality's welcome to citizens who became digitally active.

Each run notes, for every recipient it listed, whether they were digitally
active when it looked (``active_seen``). A recipient is newly active when they
are active now and were not when the last run looked, or are new to the
roster since. A municipality's first run has no earlier look: it counts as
newly active only those the portal itself announced (an ``SDAB`` push), not
everyone who was active before digidialog started. The notes are kept
whether or not a welcome is configured, so that configuring one later does
not welcome everybody at once.

With a ``welcome_message`` configured, a newly active recipient of an open
service gets it as a one-off notice (``EKI``) from the first of their open
services, keyed ``welcome:<municipality>:<citizen>``, and is marked welcomed
in the same transaction: nobody is welcomed twice, whatever their status
does later.
"""

from __future__ import annotations

from digidialog.store import CitizenStatus, NightlyCitizen
from digidialog.store.nightly_runs import COMPLETED
from digidialog.sync.nightly import messages
from digidialog.sync.nightly.context import NightlyContext, RunState
from digidialog.sync.nightly.overview import services_of
from digidialog.sync.nightly.roster import open_routes

PART = "welcome"
PORTAL_PUSH = "SDAB"
"""``source`` of a status the portal pushed (the inbound handler's name for it)."""


def newly_active(citizen: NightlyCitizen, status: CitizenStatus | None, *,
                 first_run: bool) -> bool:
    """Whether the citizen became digitally active since the last run looked."""
    if status is None or not status.active:
        return False
    if citizen.active_seen is None:
        return status.source == PORTAL_PUSH if first_run else True
    return not citizen.active_seen


def send_welcomes(ctx: NightlyContext, state: RunState, next_part: str) -> None:
    """Note who is active and welcome the newly active, batch by batch after the cursor."""
    store, m = ctx.store, ctx.municipality
    text = m.welcome_message
    cursor = state.cursor if state.part == PART else None
    first_run = store.nightly.runs.latest(m.her_id, state=COMPLETED, before=state.id) is None
    open_services = open_routes(ctx)
    ctx.progress.begin(m.her_id, PART, store.nightly.citizens.count(m.her_id, state.id))
    while True:
        ctx.check_stop()
        page = store.nightly.citizens.page(m.her_id, after=cursor, limit=ctx.settings.batch,
                                           run_id=state.id)
        if not page:
            break
        statuses = store.nightly.citizens.statuses(m.her_id, [c.citizen_id for c in page])
        now = ctx.clock()
        with store.transaction() as conn:
            for citizen in page:
                status = statuses.get(citizen.citizen_id)
                if not text or citizen.welcomed_at is not None \
                        or not newly_active(citizen, status, first_run=first_run):
                    continue
                services = services_of(citizen, open_services, state.id)
                if not services:
                    continue
                message = messages.welcome(m, services[0], citizen, text, now)
                if not ctx.send(conn, f"welcome:{m.her_id}:{citizen.citizen_id}", message,
                                citizen.citizen_id):
                    state.count(PART, "unwritable")
                    continue
                store.nightly.citizens.welcomed(conn, m.her_id, citizen.citizen_id, now)
                state.count(PART, "welcomed")
            for active in (True, False):
                store.nightly.citizens.saw_active(conn, m.her_id, [
                    c.citizen_id for c in page
                    if ((s := statuses.get(c.citizen_id)) is not None and s.active) is active
                ], active)
            cursor = page[-1].citizen_id
            state.checkpoint(conn, PART, cursor)
        ctx.progress.advance(m.her_id, PART, len(page))
    with store.transaction() as conn:
        state.checkpoint(conn, next_part, None)
    ctx.progress.end(m.her_id, PART, state.of(PART))
