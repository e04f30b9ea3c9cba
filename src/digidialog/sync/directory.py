"""Who receives which service, and which services are open: the EPJ's answers, cached.

The access rules need, for each citizen message, whether the service is open
in the EPJ and whether the citizen receives it. Asking the EPJ every time
would tie the portal's traffic to the EPJ's speed, so answers are kept for
``ttl`` seconds. A citizen missing from a cached list triggers one early
refresh (they may have been enrolled since), at most once per ``min_refresh``.

Every answer read from the EPJ is also handed to ``record`` (the engine
writes it to the store's roster), so that what must be answered without
asking the EPJ (the portal's synchronous questions) has a durable copy.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from digidialog.adapters.contract import CitizenRecord, EpjAdapter, VendorService


@dataclass
class _Entry:
    citizens: dict[str, CitizenRecord]
    fetched: float


class RosterRecord(Protocol):
    """Where the directory hands what it read from the EPJ."""

    def services(self, services: list[VendorService]) -> None:
        """The EPJ listed these services."""

    def recipients(self, service_code: str, citizens: list[CitizenRecord]) -> None:
        """The EPJ listed these recipients of ``service_code``."""


class Directory:
    """Cached services and recipients of one EPJ; safe to share between threads."""

    def __init__(self, adapter: EpjAdapter, *, ttl: float = 600.0, min_refresh: float = 30.0,
                 clock: Callable[[], float] = time.monotonic,
                 record: RosterRecord | None = None) -> None:
        self._adapter = adapter
        self._record = record
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._clock = clock
        self._lock = threading.Lock()
        self._services: dict[str, VendorService] = {}
        self._services_fetched = -float("inf")
        self._recipients: dict[str, _Entry] = {}

    def service(self, code: str) -> VendorService | None:
        """The EPJ's service with this code, or ``None`` when the EPJ has none."""
        with self._lock:
            if self._clock() - self._services_fetched > self._ttl:
                listed = self._adapter.services()
                self._services = {s.code: s for s in listed}
                self._services_fetched = self._clock()
                if self._record is not None:
                    self._record.services(listed)
            return self._services.get(code)

    def service_name(self, code: str) -> str:
        """The service's name as the EPJ gives it (its code if the EPJ has none)."""
        found = self.service(code)
        return found.name if found is not None and found.name else code

    def recipient(self, citizen_id: str, code: str) -> CitizenRecord | None:
        """The citizen's record if they receive service ``code``, else ``None``."""
        with self._lock:
            entry = self._recipients.get(code)
            if entry is None or self._stale(entry, citizen_id):
                entry = self._fetch(code)
            return entry.citizens.get(citizen_id)

    def _stale(self, entry: _Entry, citizen_id: str) -> bool:
        age = self._clock() - entry.fetched
        return age > self._ttl or (citizen_id not in entry.citizens and age > self._min_refresh)

    def citizen(self, citizen_id: str, codes: list[str]) -> CitizenRecord | None:
        """The citizen's record from the first of ``codes`` they receive."""
        for code in codes:
            record = self.recipient(citizen_id, code)
            if record is not None:
                return record
        return None

    def forget(self) -> None:
        """Drop everything cached (after the nightly reconciliation, or in tests)."""
        with self._lock:
            self._services_fetched = -float("inf")
            self._recipients.clear()

    def _fetch(self, code: str) -> _Entry:
        listed = list(self._adapter.citizens(service_code=code))
        entry = _Entry({r.national_id: r for r in listed}, self._clock())
        if self._record is not None:
            self._record.recipients(code, listed)
        self._recipients[code] = entry
        return entry
