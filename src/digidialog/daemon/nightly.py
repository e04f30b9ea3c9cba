"""The nightly job as the daemon runs and reports it: its loops, and its gauges from the store.

The loops come from :func:`digidialog.sync.nightly.nightly_loops`. The gauges
of the last run (outcome, duration, when) are set from the store at each
scrape, so that every daemon reports the run whichever daemon worked it; the
counter of runs by outcome counts the runs this daemon worked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from digidialog.store import Store
from digidialog.store.nightly_runs import COMPLETED, FAILED

if TYPE_CHECKING:  # ``digidialog status`` reads the runs without loading prometheus
    from digidialog.daemon.metrics import Metrics


def refresh_nightly(metrics: Metrics, store: Store, municipalities: Sequence[str]) -> None:
    """Set each municipality's last-run gauges from its runs in the store.

    A completed latest run sets outcome 1, its duration and end; a latest run
    that failed (or was handed back with an error, to be retried) sets outcome
    0; one still running without error leaves the gauges as the last run left
    them. ``..._last_success`` is the end of the latest completed run.
    """
    runs = store.nightly.runs
    for her_id in municipalities:
        latest = runs.latest(her_id)
        if latest is None:
            continue
        if latest.state == COMPLETED and latest.finished_at is not None:
            metrics.nightly_last_outcome.labels(her_id).set(1)
            metrics.nightly_last_duration.labels(her_id).set(
                (latest.finished_at - latest.started_at).total_seconds())
            metrics.nightly_last_run.labels(her_id).set(latest.finished_at.timestamp())
        elif latest.state == FAILED or latest.error is not None:
            metrics.nightly_last_outcome.labels(her_id).set(0)
        success = latest if latest.state == COMPLETED else runs.latest(her_id, state=COMPLETED)
        if success is not None and success.finished_at is not None:
            metrics.nightly_last_success.labels(her_id).set(success.finished_at.timestamp())


def last_run(store: Store, municipality: str) -> dict[str, Any] | None:
    """The municipality's latest run for ``digidialog status``: night, state, part, when, error."""
    latest = store.nightly.runs.latest(municipality)
    if latest is None:
        return None
    return {
        "run": latest.id, "night": latest.night, "state": latest.state, "part": latest.part,
        "started_at": latest.started_at.isoformat(),
        "finished_at": latest.finished_at.isoformat() if latest.finished_at else None,
        "error": latest.error,
    }


def describe(run: dict[str, Any] | None) -> str:
    """One cell of text for :func:`last_run`'s answer."""
    if run is None:
        return "never run"
    text = f"{run['night']} {run['state']}"
    if run["state"] == "running":
        text += f" ({run['part']})"
    if run["error"]:
        text += " after an error"
    return text
