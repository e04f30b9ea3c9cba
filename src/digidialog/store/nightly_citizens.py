"""What the nightly job keeps per citizen, and the digital status questions it asked the portal.

:class:`NightlyCitizens` holds each service recipient as the EPJ last listed
them (name, services, the EPJ's own digital flag, the run that listed them),
the TjenesteOversikt last sent to the portal for them (so that only a change
is sent again), whether they were digitally active when the last run looked
and when they were welcomed (so that the newly active are told apart, and
nobody is welcomed twice). Rows are read in pages ordered by national id: a part of a run keeps
the last id it finished as its cursor and continues after it.

:class:`StatusQueries` remembers every ``SIDAB`` sent, by MsgId, with the
citizens it asked about: the ``28`` answer lists only the active ones, so
everyone else in the question is inactive.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, or_, select, update

from digidialog.store.citizens import CitizenStatus
from digidialog.store.database import Database
from digidialog.store.schema import citizens, nightly_citizens, outbox, status_queries
from digidialog.store.workqueue import PENDING


@dataclass(frozen=True)
class NightlyCitizen:
    """One service recipient as the nightly job last saw and told of them."""

    municipality: str
    citizen_id: str
    name: str
    services: tuple[str, ...]
    epj_active: bool
    seen_run: int
    overview: tuple[dict[str, Any], ...] | None
    """The TjenesteOversikt entries last sent (JSON form), ``None`` if none was sent."""
    overview_hash: str | None
    overview_sent_at: datetime | None
    welcomed_at: datetime | None
    active_seen: bool | None
    """Whether they were digitally active when the last run looked (``None``: never looked)."""


@dataclass(frozen=True)
class Listed:
    """A recipient as the EPJ lists them, to be recorded."""

    citizen_id: str
    name: str
    services: tuple[str, ...]
    epj_active: bool


def _citizen(row: Row[Any]) -> NightlyCitizen:
    return NightlyCitizen(
        municipality=row.municipality, citizen_id=row.citizen_id, name=row.name,
        services=tuple(row.services), epj_active=row.epj_active, seen_run=row.seen_run,
        overview=None if row.overview is None else tuple(row.overview),
        overview_hash=row.overview_hash, overview_sent_at=row.overview_sent_at,
        welcomed_at=row.welcomed_at, active_seen=row.active_seen)


class NightlyCitizens:
    """Service recipients, the overview last sent to each, and welcomes."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, conn: Connection, municipality: str, listed: Iterable[Listed],
               run_id: int) -> int:
        """Upsert the EPJ's listing of recipients, marking them seen by ``run_id``."""
        rows = [{"municipality": municipality, "citizen_id": c.citizen_id, "name": c.name,
                 "services": list(c.services), "epj_active": c.epj_active, "seen_run": run_id}
                for c in listed]
        if not rows:
            return 0
        statement = self._db.insert(nightly_citizens)
        statement = statement.on_conflict_do_update(
            index_elements=["municipality", "citizen_id"],
            set_={name: statement.excluded[name]
                  for name in ("name", "services", "epj_active", "seen_run")})
        conn.execute(statement, rows)
        return len(rows)

    def page(self, municipality: str, *, after: str | None, limit: int,
             run_id: int | None = None, or_told: bool = False) -> list[NightlyCitizen]:
        """Up to ``limit`` recipients after national id ``after``, in id order.

        With ``run_id``, only those that run listed; with ``or_told`` too, also
        those the portal was sent an overview for (they may have left every service).
        """
        t = nightly_citizens
        query = select(t).where(t.c.municipality == municipality)
        if after is not None:
            query = query.where(t.c.citizen_id > after)
        if run_id is not None:
            listed = t.c.seen_run == run_id
            query = query.where(or_(listed, t.c.overview_hash.is_not(None)) if or_told
                                else listed)
        with self._db.read() as connection:
            rows = connection.execute(query.order_by(t.c.citizen_id).limit(limit)).all()
        return [_citizen(row) for row in rows]

    def count(self, municipality: str, run_id: int) -> int:
        """How many recipients ``run_id`` listed."""
        t = nightly_citizens
        with self._db.read() as connection:
            return int(connection.execute(select(func.count()).where(
                t.c.municipality == municipality, t.c.seen_run == run_id)).scalar_one())

    def active_count(self, municipality: str, run_id: int) -> int:
        """How many of the recipients ``run_id`` listed are digitally active, as stored now."""
        t = nightly_citizens
        joined = t.join(citizens, (citizens.c.municipality == t.c.municipality)
                        & (citizens.c.citizen_id == t.c.citizen_id))
        with self._db.read() as connection:
            return int(connection.execute(
                select(func.count()).select_from(joined).where(
                    t.c.municipality == municipality, t.c.seen_run == run_id,
                    citizens.c.active.is_(True))).scalar_one())

    def get(self, municipality: str, citizen_id: str) -> NightlyCitizen | None:
        """One recipient's row, or ``None``."""
        t = nightly_citizens
        with self._db.read() as connection:
            row = connection.execute(select(t).where(
                t.c.municipality == municipality, t.c.citizen_id == citizen_id)).first()
        return None if row is None else _citizen(row)

    def epj_flags(self, conn: Connection, municipality: str,
                  citizen_ids: Sequence[str]) -> dict[str, bool]:
        """The EPJ's digital flag of each listed citizen, as last read or pushed."""
        t = nightly_citizens
        rows = conn.execute(select(t.c.citizen_id, t.c.epj_active).where(
            t.c.municipality == municipality, t.c.citizen_id.in_(list(citizen_ids)))).all()
        return {row.citizen_id: row.epj_active for row in rows}

    def set_epj_active(self, conn: Connection, municipality: str, citizen_ids: Sequence[str],
                       active: bool) -> None:
        """Note that the EPJ is being told these citizens' digital flag."""
        if citizen_ids:
            conn.execute(update(nightly_citizens).where(
                nightly_citizens.c.municipality == municipality,
                nightly_citizens.c.citizen_id.in_(list(citizen_ids))).values(epj_active=active))

    def set_overviews(self, conn: Connection, municipality: str,
                      sent: Sequence[tuple[str, list[dict[str, Any]], str]], at: datetime
                      ) -> None:
        """Remember the overviews just sent: ``(citizen_id, entries, fingerprint)`` each."""
        if not sent:
            return
        t = nightly_citizens
        statement = update(t).where(
            t.c.municipality == bindparam("m"), t.c.citizen_id == bindparam("c"),
        ).values(overview=bindparam("entries"), overview_hash=bindparam("digest"),
                 overview_sent_at=bindparam("at"))
        conn.execute(statement, [{"m": municipality, "c": citizen, "entries": entries,
                                  "digest": digest, "at": at}
                                 for citizen, entries, digest in sent])

    def welcomed(self, conn: Connection, municipality: str, citizen_id: str,
                 at: datetime) -> None:
        """Remember that the citizen was welcomed."""
        conn.execute(update(nightly_citizens).where(
            nightly_citizens.c.municipality == municipality,
            nightly_citizens.c.citizen_id == citizen_id,
        ).values(welcomed_at=at))

    def saw_active(self, conn: Connection, municipality: str, citizen_ids: Sequence[str],
                   active: bool) -> None:
        """Remember whether these citizens were digitally active when this run looked."""
        if citizen_ids:
            conn.execute(update(nightly_citizens).where(
                nightly_citizens.c.municipality == municipality,
                nightly_citizens.c.citizen_id.in_(list(citizen_ids))).values(active_seen=active))

    def set_statuses(self, conn: Connection, municipality: str,
                     changed: Sequence[tuple[str, bool]], at: datetime, source: str) -> None:
        """Record many citizens' digital status at once, as ``store.citizens.set_active``
        does one (a newer fact stored wins)."""
        if not changed:
            return
        statement = self._db.insert(citizens)
        statement = statement.on_conflict_do_update(
            index_elements=["municipality", "citizen_id"],
            set_={"active": statement.excluded.active,
                  "changed_at": statement.excluded.changed_at,
                  "source": statement.excluded.source},
            where=citizens.c.changed_at <= statement.excluded.changed_at)
        conn.execute(statement, [{"municipality": municipality, "citizen_id": citizen,
                                  "active": active, "changed_at": at, "source": source}
                                 for citizen, active in changed])

    def statuses(self, municipality: str, citizen_ids: Sequence[str],
                 conn: Connection | None = None) -> dict[str, CitizenStatus]:
        """The stored digital status of each of ``citizen_ids`` that has one."""
        query = select(citizens).where(citizens.c.municipality == municipality,
                                       citizens.c.citizen_id.in_(list(citizen_ids)))
        if conn is not None:
            rows = conn.execute(query).all()
        else:
            with self._db.read() as connection:
                rows = connection.execute(query).all()
        return {row.citizen_id: CitizenStatus(municipality=row.municipality,
                                              citizen_id=row.citizen_id, active=row.active,
                                              changed_at=row.changed_at, source=row.source)
                for row in rows}


@dataclass(frozen=True)
class StatusQuery:
    """One SIDAB sent: the citizens it named, and whether and how it was answered."""

    msg_id: str
    municipality: str
    run_id: int
    citizens: tuple[str, ...]
    sent_at: datetime
    answer_code: str | None
    answered_at: datetime | None


class StatusQueries:
    """The SIDAB questions sent to the portal, by MsgId."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, conn: Connection, *, msg_id: str, municipality: str, run_id: int,
               citizen_ids: Sequence[str], at: datetime) -> None:
        """Remember a question about ``citizen_ids`` (in the caller's transaction)."""
        conn.execute(status_queries.insert().values(
            msg_id=msg_id, municipality=municipality, run_id=run_id,
            citizens=list(citizen_ids), sent_at=at))

    def get(self, msg_id: str, conn: Connection | None = None) -> StatusQuery | None:
        """The question sent as ``msg_id``, or ``None``."""
        query = select(status_queries).where(status_queries.c.msg_id == msg_id)
        if conn is not None:
            row = conn.execute(query).first()
        else:
            with self._db.read() as connection:
                row = connection.execute(query).first()
        if row is None:
            return None
        return StatusQuery(msg_id=row.msg_id, municipality=row.municipality, run_id=row.run_id,
                           citizens=tuple(row.citizens), sent_at=row.sent_at,
                           answer_code=row.answer_code, answered_at=row.answered_at)

    def answer(self, conn: Connection, msg_id: str, code: str, at: datetime) -> bool:
        """Note the answer; ``False`` when the question was answered before."""
        statement = (update(status_queries)
                     .where(status_queries.c.msg_id == msg_id,
                            status_queries.c.answered_at.is_(None))
                     .values(answer_code=code, answered_at=at))
        return conn.execute(statement).rowcount == 1

    def jobs_waiting(self, municipality: str, kind: str) -> int:
        """Outbox jobs of ``kind`` still to be done for the municipality (telling the EPJ)."""
        with self._db.read() as connection:
            return int(connection.execute(select(func.count()).where(
                outbox.c.municipality == municipality, outbox.c.kind == kind,
                outbox.c.state == PENDING)).scalar_one())

    def waiting(self, run_id: int) -> int:
        """How many of the run's questions are still unanswered."""
        t = status_queries
        with self._db.read() as connection:
            return int(connection.execute(select(func.count()).where(
                t.c.run_id == run_id, t.c.answered_at.is_(None))).scalar_one())
