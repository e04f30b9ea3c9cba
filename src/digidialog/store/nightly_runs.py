"""Nightly runs: one row per municipality and night, claimed with a lease, resumable.

A run is made once per (municipality, night, generation): the unique key lets
only one of several daemons create tonight's run; a second generation is a
run an operator asked for after the night's first had completed. Whoever
works a run holds its lease (``owner``, ``lease_until``) as a worker holds a
work item: claiming is a conditional update, so of two daemons that try at
once exactly one gets it, and a run whose owner died is claimed again once
the lease has expired.

The run's progress is its ``part`` and ``cursor`` (where in the part it got
to) and its ``counts``; each is written with :meth:`NightlyRuns.advance` in
the same transaction as the work it accounts for, and only by the lease
holder, so a run killed half way continues from the last batch it
committed, and a daemon that lost its lease cannot write over another's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, func, or_, select, update

from digidialog.store.database import Database
from digidialog.store.schema import nightly_runs

RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
MAX_ERROR_CHARS = 2000


@dataclass(frozen=True)
class NightlyRunRecord:
    """A nightly run as it was when read."""

    id: int
    municipality: str
    night: str
    """The Oslo date of the night, ``YYYY-MM-DD``."""
    generation: int
    trigger: str
    """``schedule`` (the daemon, at the municipality's time) or ``manual`` (an operator)."""
    state: str
    part: str
    cursor: str | None
    counts: dict[str, Any]
    owner: str | None
    lease_until: datetime | None
    started_at: datetime
    finished_at: datetime | None
    error: str | None

    @property
    def finished(self) -> bool:
        """Whether the run completed or failed."""
        return self.state != RUNNING


def _clip(error: str | None) -> str | None:
    if error is None or len(error) <= MAX_ERROR_CHARS:
        return error
    return error[: MAX_ERROR_CHARS - 1] + "…"


def _record(row: Row[Any]) -> NightlyRunRecord:
    return NightlyRunRecord(
        id=row.id, municipality=row.municipality, night=row.night, generation=row.generation,
        trigger=row.trigger, state=row.state, part=row.part, cursor=row.cursor,
        counts=dict(row.counts or {}), owner=row.owner, lease_until=row.lease_until,
        started_at=row.started_at, finished_at=row.finished_at, error=row.error)


class NightlyRuns:
    """The runs of the nightly job, their leases and their progress."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, municipality: str, night: str, *, trigger: str, first_part: str,
               generation: int = 1) -> int | None:
        """Make the run ``(municipality, night, generation)``; ``None`` when it exists."""
        now = self._db.now()
        statement = (
            self._db.insert(nightly_runs)
            .values(municipality=municipality, night=night, generation=generation,
                    trigger=trigger, state=RUNNING, part=first_part, cursor=None, counts={},
                    started_at=now)
            .on_conflict_do_nothing(index_elements=["municipality", "night", "generation"])
            .returning(nightly_runs.c.id)
        )
        with self._db.write() as connection:
            made: int | None = connection.execute(statement).scalar_one_or_none()
        return made

    def create_next(self, municipality: str, night: str, *, trigger: str,
                    first_part: str) -> int | None:
        """Make a further run of ``night`` (the next generation); ``None`` if another won."""
        with self._db.read() as connection:
            highest = connection.execute(
                select(func.max(nightly_runs.c.generation)).where(
                    nightly_runs.c.municipality == municipality,
                    nightly_runs.c.night == night)).scalar()
        return self.create(municipality, night, trigger=trigger, first_part=first_part,
                           generation=(highest or 0) + 1)

    def get(self, run_id: int) -> NightlyRunRecord | None:
        """The run with this id, or ``None``."""
        with self._db.read() as connection:
            row = connection.execute(select(nightly_runs).where(nightly_runs.c.id == run_id)
                                     ).first()
        return None if row is None else _record(row)

    def of_night(self, municipality: str, night: str) -> list[NightlyRunRecord]:
        """Every run of one night, first generation first."""
        query = (select(nightly_runs)
                 .where(nightly_runs.c.municipality == municipality,
                        nightly_runs.c.night == night)
                 .order_by(nightly_runs.c.generation))
        with self._db.read() as connection:
            return [_record(row) for row in connection.execute(query)]

    def latest(self, municipality: str, *, state: str | None = None,
               before: int | None = None) -> NightlyRunRecord | None:
        """The most recently started run (in ``state``; made before run ``before``), or None."""
        query = select(nightly_runs).where(nightly_runs.c.municipality == municipality)
        if state is not None:
            query = query.where(nightly_runs.c.state == state)
        if before is not None:
            query = query.where(nightly_runs.c.id < before)
        query = query.order_by(nightly_runs.c.started_at.desc(), nightly_runs.c.id.desc())
        with self._db.read() as connection:
            row = connection.execute(query.limit(1)).first()
        return None if row is None else _record(row)

    def unfinished(self, municipality: str) -> list[NightlyRunRecord]:
        """Runs still running (or left so by an owner that died), oldest first."""
        query = (select(nightly_runs)
                 .where(nightly_runs.c.municipality == municipality,
                        nightly_runs.c.state == RUNNING)
                 .order_by(nightly_runs.c.id))
        with self._db.read() as connection:
            return [_record(row) for row in connection.execute(query)]

    def claim(self, run_id: int, owner: str, *, lease_seconds: float,
              take_over: str | None = None) -> NightlyRunRecord | None:
        """Lease the running run to ``owner``: when its lease is free, expired, or already
        ``owner``'s (or ``take_over``'s: a holder known to be dead). ``None`` otherwise."""
        t = nightly_runs
        now = self._db.now()
        holders = [t.c.owner == owner] + ([t.c.owner == take_over] if take_over else [])
        statement = (
            update(t)
            .where(t.c.id == run_id, t.c.state == RUNNING,
                   or_(t.c.lease_until.is_(None), t.c.lease_until <= now, *holders))
            .values(owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
            .returning(*t.c)
        )
        with self._db.write() as connection:
            row = connection.execute(statement).first()
        return None if row is None else _record(row)

    def _held(self, run_id: int, owner: str) -> list[Any]:
        t = nightly_runs
        return [t.c.id == run_id, t.c.owner == owner, t.c.state == RUNNING]

    def renew(self, run_id: int, owner: str, *, lease_seconds: float,
              conn: Connection | None = None) -> bool:
        """Extend ``owner``'s lease; ``False`` when it no longer holds the run."""
        statement = (update(nightly_runs).where(*self._held(run_id, owner))
                     .values(lease_until=self._db.now() + timedelta(seconds=lease_seconds)))
        with self._db.within(conn) as connection:
            return connection.execute(statement).rowcount == 1

    def advance(self, conn: Connection, run_id: int, owner: str, *, part: str,
                cursor: str | None, counts: dict[str, Any], lease_seconds: float) -> bool:
        """Record progress (and extend the lease) in the caller's transaction.

        ``False`` when ``owner`` lost the run: the caller must roll its transaction back.
        """
        statement = (
            update(nightly_runs).where(*self._held(run_id, owner))
            .values(part=part, cursor=cursor, counts=counts,
                    lease_until=self._db.now() + timedelta(seconds=lease_seconds))
        )
        return conn.execute(statement).rowcount == 1

    def finish(self, run_id: int, owner: str, *, completed: bool, error: str | None = None,
               counts: dict[str, Any] | None = None) -> bool:
        """End the run, completed or failed (with its final ``counts``, when given);
        ``False`` when ``owner`` did not hold it."""
        values: dict[str, Any] = {
            "state": COMPLETED if completed else FAILED, "finished_at": self._db.now(),
            "error": _clip(error), "owner": None, "lease_until": None}
        if counts is not None:
            values["counts"] = counts
        statement = update(nightly_runs).where(*self._held(run_id, owner)).values(values)
        with self._db.write() as connection:
            return connection.execute(statement).rowcount == 1

    def release(self, run_id: int, owner: str, *, error: str | None = None) -> bool:
        """Hand the run back unfinished, for anyone to resume at once (a graceful stop, or
        a failure to be retried, whose ``error`` is kept for ``digidialog status``)."""
        statement = (update(nightly_runs).where(*self._held(run_id, owner))
                     .values(owner=None, lease_until=None, error=_clip(error)))
        with self._db.write() as connection:
            return connection.execute(statement).rowcount == 1
