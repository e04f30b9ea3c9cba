"""The nightly job's part of the store: ``store.nightly.runs``, ``.citizens``, ``.queries``,
``.appointments``."""

from __future__ import annotations

from digidialog.store.database import Database
from digidialog.store.nightly_citizens import NightlyCitizens, StatusQueries
from digidialog.store.nightly_runs import NightlyRuns
from digidialog.store.reconcile import BulkAppointments


class NightlyStore:
    """Runs and their leases, recipients and what they were told, status questions."""

    def __init__(self, db: Database) -> None:
        self.runs = NightlyRuns(db)
        self.citizens = NightlyCitizens(db)
        self.queries = StatusQueries(db)
        self.appointments = BulkAppointments(db)
