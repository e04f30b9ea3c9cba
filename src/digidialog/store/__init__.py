"""The engine's durable state in SQL: SQLite by default, PostgreSQL for several daemons.

:class:`Store` is the entry point (``Store.open(url)``); its parts are the work
queues (``inbox``, ``outbox``), ``threads``, ``links``, ``receipts``,
``checkpoints``, ``citizens``, ``events``, ``dead_letters``, ``appointments``,
``cancellations``, ``roster``, ``proxies`` and ``nightly`` (the nightly job's runs and
records). Schema changes
ship as Alembic migrations inside the package and run when a store is opened.
"""

from digidialog.store.appointments import Appointments, StoredAppointment
from digidialog.store.cancellations import Cancellations, StoredCancellation
from digidialog.store.checkpoints import Checkpoint, Checkpoints
from digidialog.store.citizens import Citizens, CitizenStatus, SeenEvents
from digidialog.store.deadletters import DeadLetter, DeadLetters
from digidialog.store.nightly_citizens import Listed, NightlyCitizen, StatusQuery
from digidialog.store.nightly_runs import NightlyRunRecord
from digidialog.store.proxies import Proxies
from digidialog.store.receipts import AwaitedReceipt, AwaitedReceipts
from digidialog.store.roster import Roster, RosterService
from digidialog.store.store import Store
from digidialog.store.threads import Link, Links, Thread, Threads
from digidialog.store.workqueue import DEAD, DONE, LEASED, PENDING, WorkItem, WorkQueue

__all__ = [
    "DEAD",
    "DONE",
    "LEASED",
    "PENDING",
    "Appointments",
    "AwaitedReceipt",
    "AwaitedReceipts",
    "Cancellations",
    "Checkpoint",
    "Checkpoints",
    "CitizenStatus",
    "Citizens",
    "DeadLetter",
    "DeadLetters",
    "Link",
    "Links",
    "Listed",
    "NightlyCitizen",
    "NightlyRunRecord",
    "Proxies",
    "Roster",
    "RosterService",
    "SeenEvents",
    "StatusQuery",
    "Store",
    "StoredAppointment",
    "StoredCancellation",
    "Thread",
    "Threads",
    "WorkItem",
    "WorkQueue",
]
