"""The PasientNr <-> national id mapping, cached, because CosDoc speaks PasientNr only.

Every command but FINN_PASIENT names a patient by CosDoc's internal number,
and every answer (appointments, events, messages) names them by it too. So
the adapter keeps both directions in memory:

- national id -> PasientNr: a miss costs one FINN_PASIENT, after which the
  number is remembered; a citizen is looked up once per adapter, not once
  per call;
- PasientNr -> national id: answers carry numbers we may not have seen
  (events for a patient we never asked about). A miss reads PASIENTER from
  the first page, remembering every patient on the way, and stops as soon
  as the number is found. A caller reading many records at once (a batch
  of events) passes ``scanned_since``, the moment it began: once the whole
  list has been read since then, a miss is "unknown" without reading it
  again, so a batch full of patients CosDoc does not list costs one scan,
  not one each, while a patient added a minute later is still found by the
  next batch;
- every PASIENTER page read for any reason fills the cache as well.

A number CosDoc no longer knows (a patient merged or renumbered: Status 2)
is forgotten with :meth:`PatientNumbers.forget`, so the next call looks it
up again. The cache is shared by the adapter's threads and guarded by a lock;
the calls to CosDoc happen outside the lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator

Page = tuple[list[tuple[int, str]], int | None]
"""One PASIENTER page: its ``(PasientNr, national id)`` pairs, and the EtterPasientNr of
the next page (``None`` after the last)."""


class PatientNumbers:
    """Both directions of the patient mapping, filled on demand."""

    def __init__(
        self,
        find: Callable[[str], int],
        page: Callable[[int], Page],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._find = find
        self._page = page
        self.clock = clock
        self._lock = threading.Lock()
        self._numbers: dict[str, int] = {}
        self._ids: dict[int, str] = {}
        self._complete_at: float | None = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._numbers)

    def remember(self, pasient_nr: int, national_id: str) -> None:
        """Record one pair (from any answer that carries both)."""
        with self._lock:
            previous = self._numbers.get(national_id)
            if previous is not None and previous != pasient_nr:
                self._ids.pop(previous, None)
            self._numbers[national_id] = pasient_nr
            self._ids[pasient_nr] = national_id

    def remember_all(self, pairs: Iterable[tuple[int, str]]) -> None:
        """Record many pairs."""
        for pasient_nr, national_id in pairs:
            self.remember(pasient_nr, national_id)

    def forget(self, national_id: str) -> None:
        """Drop a citizen whose number CosDoc no longer knows."""
        with self._lock:
            number = self._numbers.pop(national_id, None)
            if number is not None:
                self._ids.pop(number, None)

    def number_of(self, national_id: str) -> int:
        """The citizen's PasientNr: from the cache, or one FINN_PASIENT."""
        with self._lock:
            known = self._numbers.get(national_id)
        if known is not None:
            return known
        number = self._find(national_id)
        self.remember(number, national_id)
        return number

    def cached_number(self, national_id: str) -> int | None:
        """The PasientNr if it is cached, without asking CosDoc."""
        with self._lock:
            return self._numbers.get(national_id)

    def cached_national_id(self, pasient_nr: int) -> str | None:
        """The national id if it is cached, without asking CosDoc."""
        with self._lock:
            return self._ids.get(pasient_nr)

    def national_id_of(self, pasient_nr: int, *, scanned_since: float | None = None
                       ) -> str | None:
        """The national id behind a PasientNr, reading PASIENTER on a miss; ``None`` if absent.

        With ``scanned_since`` (a :attr:`clock` value), a miss does not read the list
        again if it has been read to the end since then.
        """
        with self._lock:
            known = self._ids.get(pasient_nr)
            complete_at = self._complete_at
        if known is not None:
            return known
        if scanned_since is not None and complete_at is not None and complete_at >= scanned_since:
            return None
        for number, national_id in self.scan():
            if number == pasient_nr:
                return national_id
        return None

    def scan(self) -> Iterator[tuple[int, str]]:
        """Every patient, page by page, remembering each; stop iterating to stop reading."""
        after: int | None = 0
        while after is not None:
            pairs, following = self._page(after)
            self.remember_all(pairs)
            # A vendor that says "more" without moving on would loop forever.
            following = following if following is not None and following > after else None
            if following is None:
                with self._lock:
                    self._complete_at = self.clock()
            yield from pairs
            after = following

    def completed(self) -> None:
        """Note that the whole list was just read to its last page (by any reader)."""
        with self._lock:
            self._complete_at = self.clock()

    def complete_since(self, moment: float) -> bool:
        """Whether the whole list was read (to its last page) at or after ``moment``."""
        with self._lock:
            return self._complete_at is not None and self._complete_at >= moment

    def load_all(self) -> int:
        """Read every PASIENTER page into the cache; returns how many patients are known."""
        for _ in self.scan():
            pass
        return len(self)
