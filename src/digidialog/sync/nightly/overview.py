"""Part four of a run: each digitally active citizen's TjenesteOversikt, when it changed.

A citizen's overview is the complete list of the open services they receive
(open in the EPJ and configured), each with the HER-id to write to and the
day it was first listed. It is compared with the overview last sent for them
(a fingerprint kept in the store) and sent only when it differs. A citizen
the EPJ no longer lists, whose last overview named services, gets an empty
one: the portal then ends them all. Nothing is sent to a citizen who is not
digitally active (the portal would refuse it with ``E35``).

Each batch of citizens is one transaction: the keyed send jobs
(``overview:<municipality>:<citizen>:<run>``), the fingerprints and the
cursor commit together, so a resumed run sends nobody's overview twice.
"""

from __future__ import annotations

from typing import Any

from digidialog.domain import to_oslo
from digidialog.store import NightlyCitizen
from digidialog.sync.context import ServiceRoute
from digidialog.sync.nightly import messages
from digidialog.sync.nightly.context import NightlyContext, RunState
from digidialog.sync.nightly.roster import open_routes

PART = "overview"

Sender = tuple[ServiceRoute, str]


def services_of(citizen: NightlyCitizen, open_services: list[Sender],
                run_id: int) -> list[Sender]:
    """The open services the citizen receives, in the configuration's order (none when the
    run did not list them)."""
    if citizen.seen_run != run_id:
        return []
    return [(route, name) for route, name in open_services
            if route.vendor_code in citizen.services]


def send_overviews(ctx: NightlyContext, state: RunState, next_part: str) -> None:
    """Send every changed overview, batch by batch after the cursor."""
    store, m = ctx.store, ctx.municipality
    cursor = state.cursor if state.part == PART else None
    open_services = open_routes(ctx)
    messages.check_routes(open_services, to_oslo(ctx.clock()).date())
    fallback: Sender | None = open_services[0] if open_services else (
        (m.routes[0], m.routes[0].vendor_code) if m.routes else None)
    ctx.progress.begin(m.her_id, PART, store.nightly.citizens.count(m.her_id, state.id))
    while True:
        ctx.check_stop()
        page = store.nightly.citizens.page(m.her_id, after=cursor, limit=ctx.settings.batch,
                                           run_id=state.id, or_told=True)
        if not page:
            break
        statuses = store.nightly.citizens.statuses(m.her_id, [c.citizen_id for c in page])
        now = ctx.clock()
        today = to_oslo(now).date()
        told: list[tuple[str, list[dict[str, Any]], str]] = []
        with store.transaction() as conn:
            for citizen in page:
                status = statuses.get(citizen.citizen_id)
                if status is None or not status.active:
                    state.count(PART, "not_active")
                    continue
                services = services_of(citizen, open_services, state.id)
                if citizen.overview is None and not services:
                    continue
                entries = messages.overview_entries(services, citizen.overview, today)
                digest = messages.overview_digest(entries)
                if digest == citizen.overview_hash:
                    state.count(PART, "unchanged")
                    continue
                sender = services[0] if services else fallback
                if sender is None:
                    continue
                message = messages.service_overview(m, sender, citizen, entries, now)
                if not ctx.send(conn, f"overview:{m.her_id}:{citizen.citizen_id}:{state.id}",
                                message, citizen.citizen_id):
                    state.count(PART, "unwritable")
                    continue
                told.append((citizen.citizen_id, [e.model_dump(mode="json") for e in entries],
                             digest))
                state.count(PART, "sent" if entries else "emptied")
            store.nightly.citizens.set_overviews(conn, m.her_id, told, now)
            cursor = page[-1].citizen_id
            state.checkpoint(conn, PART, cursor)
        ctx.progress.advance(m.her_id, PART, len(page))
    with store.transaction() as conn:
        state.checkpoint(conn, next_part, None)
    ctx.progress.end(m.her_id, PART, state.of(PART))
