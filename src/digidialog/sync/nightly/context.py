"""What every part of a nightly run works with: the store, the municipality, the run's lease.

:class:`RunState` is the run being worked. A part writes its progress with
:meth:`RunState.checkpoint` inside the transaction that did the work, which
also extends the lease; if another daemon took the run meanwhile (this one
was presumed dead), the checkpoint raises :class:`LeaseLost` and the
transaction rolls back, so nothing is done by two.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from digidialog.errors import DigidialogError, SchemaViolation
from digidialog.helsenorge import PortalMessage
from digidialog.log import get_logger
from digidialog.store import NightlyRunRecord, Store
from digidialog.sync import jobs
from digidialog.sync.context import Municipality
from digidialog.sync.nightly.progress import NoProgress, Progress

log = get_logger("sync.nightly")

Pump = Callable[[], bool]
"""Moves the engine's work along once (``Engine.step``): for a run with no daemon beside it."""


class LeaseLost(DigidialogError):
    """Another daemon holds the run now: this one stops working on it."""


class Stopped(DigidialogError):
    """The daemon is stopping: the run is handed back where it stands."""


@dataclass(frozen=True)
class NightlySettings:
    """Sizes and timings of a run."""

    lease_seconds: float = 300.0
    """How long a run's lease lasts without a checkpoint; a dead owner's run waits this long."""
    batch: int = 500
    """Citizens per transaction (the roster, overviews, welcomes)."""
    query_batch: int = 1000
    """Persons per SIDAB question."""
    answer_timeout: float = 900.0
    """How long the run waits for the portal's 28/29 answers before it goes on without."""
    export_batch: int = 1000
    """Exported appointments per transaction."""
    window_checkpoint: int = 50
    """Citizens whose appointment windows are read between two checkpoints."""
    idle: float = 0.2
    """Seconds between two looks while waiting, when no pump does the engine's work."""


@dataclass
class NightlyContext:
    """One municipality's run, and how it reaches the outside world."""

    store: Store
    municipality: Municipality
    owner: str
    clock: Callable[[], datetime]
    settings: NightlySettings = field(default_factory=NightlySettings)
    pump: Pump | None = None
    progress: Progress = field(default_factory=NoProgress)
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def her_id(self) -> str:
        """The municipality's HER-id."""
        return self.municipality.her_id

    def send(self, conn: Connection, key: str, message: PortalMessage,
             citizen_id: str | None = None) -> bool:
        """Add the keyed job that sends ``message`` (in the caller's transaction).

        ``False`` when the message cannot be written (a name from the EPJ with a
        character XML cannot carry): the codec refuses before anything is written,
        so the transaction goes on without it, and nothing behind it is blocked.
        """
        try:
            jobs.enqueue_portal_message(self.store, conn, municipality=self.her_id, key=key,
                                        message=message,
                                        portal_her_id=self.municipality.portal_her_id,
                                        at=message.generated_at, citizen_id=citizen_id)
        except SchemaViolation as error:
            log.warning("nightly_message_unwritable", municipality=self.her_id,
                        function=message.function.value, location=error.location)
            return False
        return True

    def check_stop(self) -> None:
        """Raise :class:`Stopped` when the daemon is stopping."""
        if self.stop.is_set():
            raise Stopped("the daemon is stopping")

    def idle(self) -> None:
        """Let the engine work (the pump) or wait a little; stop when asked."""
        self.check_stop()
        if self.pump is None or not self.pump():
            self.stop.wait(self.settings.idle)
        self.check_stop()


class RunState:
    """The run being worked: its id, where it stands, what it counted."""

    def __init__(self, context: NightlyContext, record: NightlyRunRecord) -> None:
        self.context = context
        self.id = record.id
        self.night = record.night
        self.started_at = record.started_at
        self.part = record.part
        self.cursor = record.cursor
        self.counts: dict[str, dict[str, int]] = {
            part: dict(values) for part, values in record.counts.items()}
        self._renewed = time.monotonic()

    def count(self, part: str, key: str, amount: int = 1) -> None:
        """Add to one of the part's counts (written with the next checkpoint)."""
        values = self.counts.setdefault(part, {})
        values[key] = values.get(key, 0) + amount

    def set_count(self, part: str, key: str, value: int) -> None:
        """Set one of the part's counts."""
        self.counts.setdefault(part, {})[key] = value

    def of(self, part: str) -> dict[str, int]:
        """The part's counts so far."""
        return dict(self.counts.get(part, {}))

    def checkpoint(self, conn: Connection, part: str, cursor: str | None) -> None:
        """Record that ``part`` got to ``cursor``, in the caller's transaction."""
        ctx = self.context
        if not ctx.store.nightly.runs.advance(conn, self.id, ctx.owner, part=part,
                                              cursor=cursor, counts=_plain(self.counts),
                                              lease_seconds=ctx.settings.lease_seconds):
            raise LeaseLost(f"nightly run {self.id} is no longer held by {ctx.owner}")
        self.part, self.cursor = part, cursor
        self._renewed = time.monotonic()

    def keep_lease(self) -> None:
        """Extend the lease when a third of it has passed since the last write."""
        ctx = self.context
        if time.monotonic() - self._renewed < ctx.settings.lease_seconds / 3:
            return
        if not ctx.store.nightly.runs.renew(self.id, ctx.owner,
                                            lease_seconds=ctx.settings.lease_seconds):
            raise LeaseLost(f"nightly run {self.id} is no longer held by {ctx.owner}")
        self._renewed = time.monotonic()


def _plain(counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    return {part: dict(values) for part, values in counts.items()}
