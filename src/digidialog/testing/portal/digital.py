"""Who is a digitally active Helsenorge user, as the simulated portal knows it.

A test declares citizens active (they consented on helsenorge.no) or not;
the simulator answers each ``SIDAB`` question the engine sends with ``28``
listing the asked persons it knows as active, or ``29`` when none is. A test
can stop it answering (``answering = False``) to see the engine go on
without answers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable


class DigitalUsers:
    """The portal's digitally active citizens; safe to change while the simulator runs."""

    def __init__(self) -> None:
        """Nobody is active until declared; questions are answered."""
        self._lock = threading.Lock()
        self._active: set[str] = set()
        self.answering = True
        """Whether SIDAB questions get their 28/29 answer."""

    def declare(self, citizens: Iterable[str], *, active: bool = True) -> None:
        """Make ``citizens`` digitally active (or, with ``active=False``, not)."""
        with self._lock:
            if active:
                self._active.update(citizens)
            else:
                self._active.difference_update(citizens)

    def is_active(self, citizen: str) -> bool:
        """Whether the citizen is digitally active on the portal."""
        with self._lock:
            return citizen in self._active
