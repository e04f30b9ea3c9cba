"""The store: one object holding every table the engine keeps, opened from a URL.

::

    store = Store.open("sqlite:///digidialog.db")        # migrates to the newest schema
    with store.transaction() as conn:
        if store.inbox.add(conn, municipality="1000001", kind="dialog", key=msg_id,
                           payload=body) is not None:
            store.receipts.expect(conn, msg_id=..., ...)
    items = store.inbox.claim("daemon-1", limit=10, lease_seconds=60)

Methods that take ``conn`` join the caller's transaction (``store.transaction()``),
so several changes commit together; methods without one run a transaction of their
own. Every database error leaves the store as
:class:`~digidialog.errors.StoreUnavailable` (retry) or
:class:`~digidialog.errors.FatalError`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from types import TracebackType

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from digidialog.store import migrate as migrations
from digidialog.store.appointments import Appointments
from digidialog.store.cancellations import Cancellations
from digidialog.store.checkpoints import Checkpoints
from digidialog.store.citizens import Citizens, SeenEvents
from digidialog.store.database import Clock, Database, create_store_engine, utc_now
from digidialog.store.deadletters import DeadLetters
from digidialog.store.errors import translate_errors
from digidialog.store.nightly import NightlyStore
from digidialog.store.proxies import Proxies
from digidialog.store.receipts import AwaitedReceipts
from digidialog.store.roster import Roster
from digidialog.store.threads import Links, Threads
from digidialog.store.workqueue import WorkQueue


class Store:
    """The engine's durable state: work queues, threads, receipts, checkpoints, citizens."""

    def __init__(self, engine: Engine, url: str, *, clock: Clock = utc_now) -> None:
        self.url = url
        self.engine = engine
        self.db = Database(engine, clock)
        self.inbox = WorkQueue(self.db, "inbox")
        self.outbox = WorkQueue(self.db, "outbox")
        self.threads = Threads(self.db)
        self.links = Links(self.db)
        self.receipts = AwaitedReceipts(self.db)
        self.checkpoints = Checkpoints(self.db)
        self.citizens = Citizens(self.db)
        self.events = SeenEvents(self.db)
        self.dead_letters = DeadLetters(self.db)
        self.appointments = Appointments(self.db)
        self.cancellations = Cancellations(self.db)
        self.roster = Roster(self.db)
        self.proxies = Proxies(self.db)
        self.nightly = NightlyStore(self.db)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, clock: Clock = utc_now,
             busy_timeout: float = 30.0) -> Store:
        """Connect to ``url`` and, with ``migrate``, bring its schema to the newest revision.

        ``busy_timeout`` is how long (seconds) a SQLite writer waits for another;
        ``clock`` is where the store reads the time (tests may pass their own).
        """
        engine = create_store_engine(url, busy_timeout=busy_timeout)
        try:
            if migrate:
                migrations.upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, url, clock=clock)

    def __repr__(self) -> str:
        return f"Store({make_url(self.url).render_as_string(hide_password=True)!r})"

    def now(self) -> datetime:
        """The store's clock: the current instant, aware UTC."""
        return self.db.now()

    def transaction(self) -> AbstractContextManager[Connection]:
        """One atomic unit (SQLite: ``BEGIN IMMEDIATE``): commits on success, else rolls back."""
        return self.db.write()

    def work_queue(self, name: str) -> WorkQueue:
        """The work queue called ``name`` (``"inbox"`` or ``"outbox"``, as dead letters say)."""
        queues = {"inbox": self.inbox, "outbox": self.outbox}
        if name not in queues:
            raise ValueError(f"no work queue named {name!r}")
        return queues[name]

    def revision(self) -> str | None:
        """The schema revision the database is at."""
        return migrations.current_revision(self.engine)

    def ping(self) -> None:
        """Check that the database answers; raises ``StoreUnavailable`` when it does not."""
        with self.db.read() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        """Close every pooled connection."""
        with translate_errors():
            self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

