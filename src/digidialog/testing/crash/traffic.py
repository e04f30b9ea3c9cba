"""What flows through a crash run, as pluggable kinds of traffic, and how each is counted.

A kind of traffic (:class:`Traffic`) is the hook: it prepares its part of the
world before the daemons start, makes one unit of traffic per :meth:`~Traffic.tick`
(a citizen writes, staff answer, a visit is done, ...), pulls the levers the
outside world pulls later (staff deciding a cancellation, Profil resending its
pushes) in :meth:`~Traffic.settle`, says when everything it started has had
its effect (:meth:`~Traffic.done`) and finally counts what arrived
(:meth:`~Traffic.tally`). The run knows nothing of the kinds: a nightly run
is one more kind, added to the list.

Counting is by effect, not by wire: a message the portal received twice
under one MsgId (the daemon died after sending, before it noted it) is one
effect and a *repeat*, which Helsenorge discards as it does every repeated
MsgId; the same effect under two MsgIds, or twice in the EPJ, is a
*duplicate*. Both are reported; only duplicates and losses fail a run.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from digidialog.testing.crash.world import CrashWorld


@dataclass(frozen=True)
class Count:
    """One kind of effect: how many were started, and how each ended up."""

    what: str
    expected: int
    once: int
    lost: int
    duplicated: int
    repeats: int = 0
    """Extra arrivals of one effect under the same id (absorbed by the receiver)."""
    examples: tuple[str, ...] = ()
    """Ids (MsgIds, visit uids, request ids) of lost or duplicated effects, a few."""

    @property
    def ok(self) -> bool:
        """Nothing lost, nothing duplicated."""
        return self.lost == 0 and self.duplicated == 0


def count(what: str, arrivals: Iterable[tuple[str, int, int]], *, shown: int = 5) -> Count:
    """A :class:`Count` from ``(id, effects, wire arrivals)`` per started effect."""
    expected = once = lost = duplicated = repeats = 0
    examples: list[str] = []
    for ident, effects, arrived in arrivals:
        expected += 1
        repeats += max(0, arrived - effects)
        if effects == 1:
            once += 1
            continue
        if effects == 0:
            lost += 1
        else:
            duplicated += 1
        if len(examples) < shown:
            examples.append(f"{ident} x{effects}")
    return Count(what, expected, once, lost, duplicated, repeats, tuple(examples))


class Traffic(Protocol):
    """One kind of traffic in a crash run (see the module's docstring)."""

    name: str

    def prepare(self, world: CrashWorld) -> None:
        """Before the daemons start: seed what this traffic needs in the vendor mocks."""

    def begin(self, world: CrashWorld) -> None:
        """After the first daemon serves, before any kill: what must precede the traffic."""

    def tick(self, world: CrashWorld, rng: random.Random) -> None:
        """Make one unit of traffic now."""

    def settle(self, world: CrashWorld) -> None:
        """Pull the levers that follow what arrived (called often, from one thread)."""

    def done(self, world: CrashWorld) -> bool:
        """Whether every effect started has arrived (the run then stops waiting)."""

    def tally(self, world: CrashWorld) -> list[Count]:
        """Count every effect started: once, lost, duplicated."""


@dataclass
class Pool:
    """Things to be used once each (visits to complete or cancel), shared between threads."""

    items: list[tuple[str, ...]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, item: tuple[str, ...]) -> None:
        """Make ``item`` available."""
        with self._lock:
            self.items.append(item)

    def take(self, rng: random.Random) -> tuple[str, ...] | None:
        """A random item, no longer available; None when none is left."""
        with self._lock:
            if not self.items:
                return None
            return self.items.pop(rng.randrange(len(self.items)))
