"""The event store: pushed events, kept durably, in order, once each.

Profil pushes events to an endpoint digidialog hosts and resends each until it
is acknowledged, so this store is where the push endpoint writes (before it
answers ``Accepted = true``) and where :meth:`ProfilAdapter.changes` reads.

SQLite through the standard library, in WAL mode with ``synchronous=FULL``:
a committed event survives a crash or a power cut, the endpoint and the
adapter may be different processes, and readers never block the writer.

- ``events``: one row per EventId (a resend is ignored), numbered by an
  increasing ``seq``, which is the checkpoint of the change feed;
- ``resolved``: what each stored event became (domain events as JSON), so a
  feed read again from an older checkpoint gives the same events even after
  the outbox was acknowledged or the visit changed again;
- ``outbox``: each outbox MessageId with the event that first delivered it,
  because Profil hands a message out again and again until it is acked;
- ``requests`` and ``plan``: which visits each of our cancellation requests
  was expanded into, each visit's decision, and when the request was answered;
- ``failures``: failed tries to read an event's details, so that an event
  Profil keeps answering broken is parked instead of holding up the feed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from digidialog.errors import FatalError, RetriableError
from digidialog_profil.mapping import PushedEvent
from digidialog_profil.wire import EventType

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    national_id TEXT NOT NULL,
    visit_id INTEGER,
    accepted INTEGER,
    comment TEXT,
    stored_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS resolved (seq INTEGER PRIMARY KEY, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (message_id INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS requests (
    request_id TEXT PRIMARY KEY,
    citizen_id TEXT NOT NULL,
    answered_seq INTEGER
);
CREATE TABLE IF NOT EXISTS plan (
    request_id TEXT NOT NULL REFERENCES requests (request_id),
    visit_id INTEGER NOT NULL,
    accepted INTEGER,
    comment TEXT,
    PRIMARY KEY (request_id, visit_id)
);
CREATE INDEX IF NOT EXISTS plan_open ON plan (visit_id) WHERE accepted IS NULL;
CREATE TABLE IF NOT EXISTS flags (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS failures (seq INTEGER PRIMARY KEY, count INTEGER NOT NULL);
"""


@contextmanager
def store_errors() -> Iterator[None]:
    """SQLite's errors as digidialog's: a busy or failing disk may recover, anything else not."""
    try:
        yield
    except sqlite3.OperationalError as error:
        raise RetriableError(f"the Profil event store is busy or failing: {error}") from None
    except sqlite3.Error as error:
        raise FatalError(f"the Profil event store is broken: {error}") from None


@dataclass(frozen=True)
class StoredEvent:
    """A stored event and its place in the feed."""

    seq: int
    event: PushedEvent


@dataclass(frozen=True)
class Answer:
    """A cancellation request whose every visit is decided: the parts of its answer."""

    request_id: str
    citizen_id: str
    parts: tuple[tuple[int, bool, str | None], ...]
    """(visit id, accepted, comment) per visit, in visit order; empty for an empty period."""


class EventStore:
    """Pushed events and the adapter's bookkeeping, in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One connection shared by the threads of this process, behind a lock;
            # other processes open their own and SQLite's locking orders them.
            self._db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise FatalError(f"the Profil event store cannot be opened: {error}") from None
        self._lock = threading.RLock()

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, committed (durably) when the block ends without error."""
        with self._lock, store_errors():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, for reads outside a transaction."""
        with self._lock, store_errors():
            yield self._db

    # ------------------------------------------------------------ events

    def add(self, event: PushedEvent) -> bool:
        """Store an event unless its EventId is already stored; True if it is new.

        Returns only after the commit, so the caller may then acknowledge it.
        """
        row = (event.event_id, event.event_type.value, event.occurred_at.isoformat(),
               event.national_id, event.visit_id,
               None if event.accepted is None else int(event.accepted), event.comment,
               datetime.now(UTC).isoformat())
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO events (event_id, event_type, occurred_at, national_id,"
                " visit_id, accepted, comment, stored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            return cursor.rowcount == 1

    def after(self, seq: int, limit: int) -> list[StoredEvent]:
        """Up to ``limit`` stored events after ``seq``, in order."""
        with self.reading() as db:
            rows = db.execute(
                "SELECT seq, event_id, event_type, occurred_at, national_id, visit_id, accepted,"
                " comment FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit),
            ).fetchall()
        return [
            StoredEvent(seq=row[0], event=PushedEvent(
                event_id=row[1], event_type=EventType(row[2]),
                occurred_at=datetime.fromisoformat(row[3]), national_id=row[4],
                visit_id=row[5], accepted=None if row[6] is None else bool(row[6]),
                comment=row[7],
            ))
            for row in rows
        ]

    def count(self) -> int:
        """How many events are stored (each EventId once)."""
        with self.reading() as db:
            return int(db.execute("SELECT count(*) FROM events").fetchone()[0])

    def resolution(self, seq: int) -> str | None:
        """What event ``seq`` became, if it was resolved before."""
        with self.reading() as db:
            return self.resolution_in(db, seq)

    @staticmethod
    def resolution_in(db: sqlite3.Connection, seq: int) -> str | None:
        """What event ``seq`` became, read inside ``db``'s transaction."""
        row = db.execute("SELECT payload FROM resolved WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else str(row[0])

    def failed(self, seq: int) -> int:
        """Count one more failed try to resolve event ``seq``; how many there were, this one
        included."""
        with self.transaction() as db:
            db.execute("INSERT INTO failures (seq, count) VALUES (?, 1) ON CONFLICT (seq)"
                       " DO UPDATE SET count = count + 1", (seq,))
            return int(db.execute("SELECT count FROM failures WHERE seq = ?",
                                  (seq,)).fetchone()[0])

    @staticmethod
    def save_resolution(db: sqlite3.Connection, seq: int, payload: str) -> None:
        """Record what ``seq`` became, in ``db``'s transaction."""
        db.execute("INSERT INTO resolved (seq, payload) VALUES (?, ?)", (seq, payload))

    # ------------------------------------------------------------ outbox

    @staticmethod
    def claim_messages(db: sqlite3.Connection, seq: int, message_ids: Sequence[int]) -> set[int]:
        """The outbox messages seen for the first time, now tied to event ``seq``."""
        claimed = set()
        for message_id in message_ids:
            cursor = db.execute("INSERT OR IGNORE INTO outbox (message_id, seq) VALUES (?, ?)",
                                (message_id, seq))
            if cursor.rowcount == 1:
                claimed.add(message_id)
        return claimed

    def flag(self, name: str) -> bool:
        """Whether a flag is raised."""
        with self.reading() as db:
            return db.execute("SELECT 1 FROM flags WHERE name = ?",
                              (name,)).fetchone() is not None

    def set_flag(self, name: str, on: bool) -> bool:
        """Raise or lower a flag; returns whether it was raised before."""
        with self.transaction() as db:
            was = db.execute("SELECT 1 FROM flags WHERE name = ?", (name,)).fetchone() is not None
            if on:
                db.execute("INSERT OR IGNORE INTO flags (name) VALUES (?)", (name,))
            else:
                db.execute("DELETE FROM flags WHERE name = ?", (name,))
            return was

    # ------------------------------------------------------------ cancellations

    def plan(self, request_id: str, citizen_id: str, cancel: Sequence[int],
             refuse: Sequence[int] = ()) -> None:
        """Remember the visits a request expands into, unless it was planned before.

        Visits in ``refuse`` are decided as refused at once: they are never sent.
        """
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM requests WHERE request_id = ?",
                          (request_id,)).fetchone() is not None:
                return
            db.execute("INSERT INTO requests (request_id, citizen_id) VALUES (?, ?)",
                       (request_id, citizen_id))
            db.executemany("INSERT OR IGNORE INTO plan (request_id, visit_id, accepted)"
                           " VALUES (?, ?, ?)",
                           [(request_id, v, None) for v in cancel]
                           + [(request_id, v, 0) for v in refuse])

    def planned(self, request_id: str) -> list[tuple[int, bool]] | None:
        """A planned request's visits and whether each is decided; None if never planned."""
        with self.reading() as db:
            if db.execute("SELECT 1 FROM requests WHERE request_id = ?",
                          (request_id,)).fetchone() is None:
                return None
            rows = db.execute("SELECT visit_id, accepted IS NOT NULL FROM plan"
                              " WHERE request_id = ? ORDER BY rowid", (request_id,)).fetchall()
        return [(int(v), bool(d)) for v, d in rows]

    def refuse(self, request_id: str, visit_id: int) -> None:
        """Decide one planned visit as refused, when Profil refused to register it at all."""
        with self.transaction() as db:
            db.execute("UPDATE plan SET accepted = 0 WHERE request_id = ? AND visit_id = ?"
                       " AND accepted IS NULL", (request_id, visit_id))

    @staticmethod
    def decide(db: sqlite3.Connection, visit_id: int, accepted: bool,
               comment: str | None) -> list[str]:
        """Record Profil's decision for a visit in every request still waiting for it."""
        rows = db.execute("SELECT request_id FROM plan WHERE visit_id = ? AND accepted IS NULL",
                          (visit_id,)).fetchall()
        db.execute("UPDATE plan SET accepted = ?, comment = ? WHERE visit_id = ?"
                   " AND accepted IS NULL", (int(accepted), comment, visit_id))
        return [str(r[0]) for r in rows]

    @staticmethod
    def answers(db: sqlite3.Connection, request_ids: Sequence[str], seq: int) -> list[Answer]:
        """The requests among ``request_ids`` now fully decided and not yet answered.

        Each is marked answered by event ``seq``, in ``db``'s transaction, so it is
        answered exactly once.
        """
        ready = []
        for request_id in dict.fromkeys(request_ids):
            request = db.execute("SELECT citizen_id FROM requests WHERE request_id = ?"
                                 " AND answered_seq IS NULL", (request_id,)).fetchone()
            parts = db.execute("SELECT visit_id, accepted, comment FROM plan WHERE request_id = ?"
                               " ORDER BY rowid", (request_id,)).fetchall()
            if request is None or any(p[1] is None for p in parts):
                continue
            db.execute("UPDATE requests SET answered_seq = ? WHERE request_id = ?",
                       (seq, request_id))
            ready.append(Answer(request_id=request_id, citizen_id=str(request[0]),
                                parts=tuple((int(v), bool(a), c) for v, a, c in parts)))
        return ready
