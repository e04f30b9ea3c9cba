"""How a nightly run reports its progress: part by part, items done out of a total.

A run calls :class:`Progress` as it goes; the CLI draws a rich progress bar
from it, and :class:`LogProgress` writes structured ``nightly_progress``
events (municipality, run, part, counts: never anyone's id or name), at most
one per part every few seconds and one when each part ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from digidialog.log import get_logger

log = get_logger("sync.nightly")


class Progress(Protocol):
    """Told what a run is doing."""

    def begin(self, municipality: str, part: str, total: int | None) -> None:
        """Part ``part`` starts (or resumes); ``total`` items, when known."""

    def advance(self, municipality: str, part: str, done: int) -> None:
        """``done`` more items of the part are finished (committed)."""

    def end(self, municipality: str, part: str, counts: dict[str, int]) -> None:
        """The part is finished, with what it counted."""


class NoProgress:
    """Reports nothing."""

    def begin(self, municipality: str, part: str, total: int | None) -> None:
        """Nothing."""

    def advance(self, municipality: str, part: str, done: int) -> None:
        """Nothing."""

    def end(self, municipality: str, part: str, counts: dict[str, int]) -> None:
        """Nothing."""


class LogProgress:
    """``nightly_progress`` log events, throttled to one per part every ``every`` seconds."""

    def __init__(self, *, every: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self._clock = clock
        self._done: dict[str, int] = {}
        self._total: dict[str, int | None] = {}
        self._logged: dict[str, float] = {}

    def begin(self, municipality: str, part: str, total: int | None) -> None:
        """Log that the part starts."""
        self._done[part] = 0
        self._total[part] = total
        self._logged[part] = self._clock()
        log.info("nightly_part_started", municipality=municipality, part=part,
                 total=total)

    def advance(self, municipality: str, part: str, done: int) -> None:
        """Count, and log when the last event of the part is old enough."""
        self._done[part] = self._done.get(part, 0) + done
        now = self._clock()
        if now - self._logged.get(part, 0.0) >= self.every:
            self._logged[part] = now
            log.info("nightly_progress", municipality=municipality, part=part,
                     done=self._done[part], total=self._total.get(part))

    def end(self, municipality: str, part: str, counts: dict[str, int]) -> None:
        """Log the part's counts."""
        log.info("nightly_part_finished", municipality=municipality, part=part,
                 done=self._done.get(part, 0), counts=dict(counts))


class Several:
    """Tells every one of several listeners."""

    def __init__(self, listeners: Sequence[Progress]) -> None:
        self.listeners = list(listeners)

    def begin(self, municipality: str, part: str, total: int | None) -> None:
        """Tell each."""
        for listener in self.listeners:
            listener.begin(municipality, part, total)

    def advance(self, municipality: str, part: str, done: int) -> None:
        """Tell each."""
        for listener in self.listeners:
            listener.advance(municipality, part, done)

    def end(self, municipality: str, part: str, counts: dict[str, int]) -> None:
        """Tell each."""
        for listener in self.listeners:
            listener.end(municipality, part, counts)
