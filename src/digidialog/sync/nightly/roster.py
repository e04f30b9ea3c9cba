"""Part one of a run: who receives which service, read from the EPJ.

The EPJ's services and every recipient (all pages) are read once: the store's
roster (what the engine answers from during the day) is replaced with them,
and each recipient is recorded for the run with their name, services and the
EPJ's own digital flag, in batches. The part has no cursor: a run resumed
within it reads the EPJ again, which changes nothing twice.
"""

from __future__ import annotations

from collections import defaultdict

from digidialog.store import Listed, RosterService
from digidialog.sync.context import ServiceRoute
from digidialog.sync.nightly.context import NightlyContext, RunState

PART = "roster"


def read_roster(ctx: NightlyContext, state: RunState, next_part: str) -> None:
    """Read services and recipients from the EPJ into the store."""
    store, m = ctx.store, ctx.municipality
    ctx.progress.begin(m.her_id, PART, None)
    services = m.adapter.services()
    with store.transaction() as conn:
        store.roster.put_services(
            conn, m.her_id, [RosterService(s.code, s.name, s.open_for_dialog) for s in services],
            store.now())
    receiving: dict[str, list[str]] = defaultdict(list)
    batch: list[Listed] = []
    state.set_count(PART, "recipients", 0)

    def flush() -> None:
        with store.transaction() as conn:
            store.nightly.citizens.record(conn, m.her_id, batch, state.id)
            state.count(PART, "recipients", len(batch))
            state.checkpoint(conn, PART, None)
        ctx.progress.advance(m.her_id, PART, len(batch))
        batch.clear()
        ctx.check_stop()

    for record in m.adapter.citizens():
        batch.append(Listed(record.national_id, record.name, tuple(record.service_codes),
                            record.digitally_active))
        for code in record.service_codes:
            receiving[code].append(record.national_id)
        if len(batch) >= ctx.settings.batch:
            flush()
    if batch:
        flush()
    state.set_count(PART, "services", len(services))
    state.set_count(PART, "open_services", sum(
        1 for s in services if s.open_for_dialog and m.route_of(s.code) is not None))
    with store.transaction() as conn:
        for service in services:
            store.roster.put_recipients(conn, m.her_id, service.code,
                                        receiving.get(service.code, ()), store.now())
        state.checkpoint(conn, next_part, None)
    ctx.progress.end(m.her_id, PART, state.of(PART))


def open_routes(ctx: NightlyContext) -> list[tuple[ServiceRoute, str]]:
    """The configured services the EPJ lists as open, with the EPJ's name for each.

    A service open in the EPJ but not configured is closed (daemon.md), and so
    is a configured one the EPJ does not mark open.
    """
    listed = ctx.store.roster.services(ctx.her_id)
    found = []
    for route in ctx.municipality.routes:
        service = listed.get(route.vendor_code)
        if service is not None and service.open_for_dialog:
            found.append((route, service.name or route.vendor_code))
    return found
