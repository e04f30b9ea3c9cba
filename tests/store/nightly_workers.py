"""Processes racing for tonight's nightly run (importable, for ``spawn``)."""

from __future__ import annotations

from digidialog.store import Store


def make_and_claim(url: str, owner: str) -> int | None:
    """Make tonight's run if nobody has, then try to claim it; the id claimed, or None."""
    store = Store.open(url, migrate=False)
    try:
        runs = store.nightly.runs
        runs.create("A", "2026-03-02", trigger="schedule", first_part="roster")
        [tonight] = runs.of_night("A", "2026-03-02")
        claimed = runs.claim(tonight.id, owner, lease_seconds=120)
        return None if claimed is None else claimed.id
    finally:
        store.close()
