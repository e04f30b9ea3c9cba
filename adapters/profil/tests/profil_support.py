"""Helpers shared by the Profil tests: a started harness, and the feed read to its end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from digidialog.domain.events import EpjEvent
from digidialog_profil.adapter import ProfilAdapter
from digidialog_profil.mock.harness import ProfilHarness


@contextmanager
def started() -> Iterator[ProfilHarness]:
    """A started harness, stopped afterwards (for the vendor tests' fixtures)."""
    harness = ProfilHarness()
    harness.start()
    try:
        yield harness
    finally:
        harness.stop()


def drain(adapter: ProfilAdapter, checkpoint: str | None = None, *, acknowledge: bool = True,
          limit: int = 200) -> tuple[list[EpjEvent], str | None]:
    """Every event after ``checkpoint`` (acknowledging each batch unless told not to)."""
    events: list[EpjEvent] = []
    for _ in range(100):
        batch = adapter.changes(checkpoint, limit=limit)
        events.extend(batch.events)
        if acknowledge:
            adapter.acknowledge(batch)
        checkpoint = batch.checkpoint or checkpoint
        if not batch.more:
            break
    return events, checkpoint
