"""Part six of a run: every digitally active recipient's appointments read into the store.

The store must answer the portal's HentPlanlagteTimer without asking the EPJ,
so each night the window kept for each digitally active recipient (yesterday
and six weeks ahead: :func:`~digidialog.sync.window.window_around`) is made
equal to what the EPJ reports. Two ways, memory flat in the number of
appointments either way:

- an EPJ with a daily export (CosDoc's ``EKSPORT_AVTALER``: every digitally
  active patient's appointments of one day) is read as a stream, day by day:
  each record is written as it passes, in batches, then what the day's export
  did not report is swept (:mod:`digidialog.store.reconcile`); the cursor is
  the last day done;
- any other EPJ is read citizen by citizen, page by page, with
  :func:`~digidialog.sync.window.read_window`; the cursor is the last citizen
  done (written every ``window_checkpoint`` citizens: a resumed run reads at
  most that many again, which changes nothing).

A citizen the EPJ refuses to answer about (unknown, or a final vendor error)
is skipped and counted; a passing failure stops the run, to be resumed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Protocol, runtime_checkable

from digidialog.domain import Appointment
from digidialog.domain.timezone import OSLO
from digidialog.errors import VendorRejected
from digidialog.log import get_logger
from digidialog.sync.nightly.context import NightlyContext, RunState
from digidialog.sync.window import read_window, window_around

log = get_logger("sync.nightly")

PART = "appointments"


@runtime_checkable
class DailyExport(Protocol):
    """An adapter that can export one day's appointments of every digitally active patient."""

    def export_appointments(self, day: date) -> Iterator[tuple[str, Appointment]]:
        """``(national id, appointment)`` for every record of ``day``, streamed."""
        ...


def reconcile_appointments(ctx: NightlyContext, state: RunState, next_part: str) -> None:
    """Read the window of every digitally active recipient into the store."""
    if isinstance(ctx.municipality.adapter, DailyExport):
        _by_export(ctx, state, ctx.municipality.adapter)
    else:
        _by_citizen(ctx, state)
    with ctx.store.transaction() as conn:
        state.checkpoint(conn, next_part, None)
    ctx.progress.end(ctx.her_id, PART, state.of(PART))


def _active_recipients(ctx: NightlyContext, state: RunState, after: str | None
                       ) -> Iterator[list[str]]:
    """The run's digitally active recipients after ``after``, page by page, in id order."""
    store = ctx.store
    while True:
        page = store.nightly.citizens.page(ctx.her_id, after=after, limit=ctx.settings.batch,
                                           run_id=state.id)
        if not page:
            return
        ids = [c.citizen_id for c in page]
        statuses = store.nightly.citizens.statuses(ctx.her_id, ids)
        yield [c for c in ids if (s := statuses.get(c)) is not None and s.active]
        after = ids[-1]


def _by_citizen(ctx: NightlyContext, state: RunState) -> None:
    store, m = ctx.store, ctx.municipality
    cursor = state.cursor if state.part == PART else None
    ctx.progress.begin(m.her_id, PART, store.nightly.citizens.active_count(m.her_id, state.id))
    since_checkpoint = 0
    last = cursor
    for citizens in _active_recipients(ctx, state, cursor):
        for citizen in citizens:
            ctx.check_stop()
            try:
                found = read_window(store, m, citizen, ctx.clock())
            except VendorRejected as error:
                state.count(PART, "skipped")
                log.warning("nightly_window_skipped", municipality=m.her_id, run=state.id,
                            error=type(error).__name__)
            else:
                state.count(PART, "citizens")
                state.count(PART, "appointments", found)
            last = citizen
            since_checkpoint += 1
            ctx.progress.advance(m.her_id, PART, 1)
            if since_checkpoint >= ctx.settings.window_checkpoint:
                with store.transaction() as conn:
                    state.checkpoint(conn, PART, last)
                since_checkpoint = 0
    if since_checkpoint:
        with store.transaction() as conn:
            state.checkpoint(conn, PART, last)


def _days(now: datetime) -> list[date]:
    start, end = window_around(now)
    first, last = start.date(), end.date()
    return [first + timedelta(days=n) for n in range((last - first).days)]


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=OSLO)


def _by_export(ctx: NightlyContext, state: RunState, export: DailyExport) -> None:
    store, m = ctx.store, ctx.municipality
    bulk = store.nightly.appointments
    cursor = state.cursor if state.part == PART else None
    now = ctx.clock()
    days = _days(now)
    done = date.fromisoformat(cursor) if cursor else None
    ctx.progress.begin(m.her_id, PART, len(days))
    active = {c for page in _active_recipients(ctx, state, None) for c in page}
    for day in days:
        if done is not None and day <= done:
            continue
        ctx.check_stop()
        began = ctx.clock()
        batch: list[tuple[str, Appointment]] = []
        written = 0
        for citizen, appointment in export.export_appointments(day):
            if citizen not in active:
                continue
            batch.append((citizen, appointment))
            if len(batch) >= ctx.settings.export_batch:
                with store.transaction() as conn:
                    written += bulk.put_many(conn, m.her_id, batch, changed_at=began)
                batch.clear()
                state.keep_lease()
        with store.transaction() as conn:
            written += bulk.put_many(conn, m.her_id, batch, changed_at=began)
            swept = bulk.sweep(conn, m.her_id, run_id=state.id, start=_midnight(day),
                               end=_midnight(day + timedelta(days=1)), before=began)
            state.count(PART, "appointments", written)
            state.count(PART, "removed", swept)
            state.count(PART, "days")
            state.checkpoint(conn, PART, day.isoformat())
        ctx.progress.advance(m.her_id, PART, 1)
    start, end = window_around(now)
    ordered = sorted(active)
    for first in range(0, len(ordered), ctx.settings.batch):
        with store.transaction() as conn:
            bulk.mark_read(conn, m.her_id, ordered[first:first + ctx.settings.batch],
                           start=start, end=end, at=ctx.clock())
    state.set_count(PART, "citizens", len(ordered))
