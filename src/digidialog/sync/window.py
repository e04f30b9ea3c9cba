"""Reading from the EPJ what the engine keeps for the portal: a citizen's appointments, the roster.

:func:`read_window` replaces a citizen's stored appointments in a window of
days with what the EPJ reports now; the engine calls it on first contact with
a citizen and the nightly reconciliation calls it for each digitally active
one. :class:`StoreRoster` is where the :class:`~digidialog.sync.directory.Directory`
writes every list of services and recipients it reads.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from digidialog.adapters.contract import CitizenRecord, VendorService
from digidialog.domain.timezone import OSLO
from digidialog.log import get_logger
from digidialog.store import RosterService, Store
from digidialog.sync.context import Municipality

log = get_logger("sync.window")

DAYS_BEFORE = 1
"""Days before today a window starts: yesterday's visits may still be changed or completed."""
DAYS_AHEAD = 42
"""Days after today a window reaches: six weeks of planned visits, what the portal shows."""


def window_around(now: datetime, *, days_before: int = DAYS_BEFORE,
                  days_ahead: int = DAYS_AHEAD) -> tuple[datetime, datetime]:
    """The window of appointments kept for a citizen: whole Oslo days around ``now``."""
    today = now.astimezone(OSLO).date()
    start = datetime.combine(today - timedelta(days=days_before), time(), tzinfo=OSLO)
    end = datetime.combine(today + timedelta(days=days_ahead + 1), time(), tzinfo=OSLO)
    return start, end


def read_window(store: Store, municipality: Municipality, citizen_id: str, now: datetime
                ) -> int:
    """Read the citizen's appointments in the window around ``now`` into the store.

    One adapter call (every page of it) outside any transaction, then one
    transaction that makes the stored window equal to the answer; how many
    appointments the EPJ reported.
    """
    start, end = window_around(now)
    found = municipality.adapter.appointments(citizen_id, start, end)
    with store.transaction() as conn:
        count = store.appointments.replace_window(conn, municipality.her_id, citizen_id,
                                                  start, end, found, at=now)
    log.info("appointments read", municipality=municipality.her_id, appointments=count)
    return count


class StoreRoster:
    """Writes what a municipality's directory reads from the EPJ to the store's roster."""

    def __init__(self, store: Store, municipality_her_id: str) -> None:
        self.store = store
        self.municipality = municipality_her_id

    def services(self, services: list[VendorService]) -> None:
        """Keep the EPJ's list of services."""
        with self.store.transaction() as conn:
            self.store.roster.put_services(
                conn, self.municipality,
                [RosterService(s.code, s.name, s.open_for_dialog) for s in services],
                self.store.now())

    def recipients(self, service_code: str, citizens: list[CitizenRecord]) -> None:
        """Keep who receives ``service_code``."""
        with self.store.transaction() as conn:
            self.store.roster.put_recipients(conn, self.municipality, service_code,
                                             [c.national_id for c in citizens],
                                             self.store.now())
