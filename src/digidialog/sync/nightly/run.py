"""A nightly run from its claim to its end, part after part, resumable at every batch.

The parts, in order: ``roster`` (who receives what, from the EPJ), ``status``
(SIDAB questions), ``answers`` (wait for 28/29), ``overview``
(TjenesteOversikt), ``welcome`` and ``appointments``. A run starts at the part
(and cursor) its row names: the first part for a new run, where it stopped
for a resumed one.

:func:`run_now` is ``digidialog sync nightly``: it resumes the municipality's
unfinished run, or starts a new one for tonight. :func:`execute` works a run
already claimed; the daemon's schedule (:mod:`.schedule`) claims tonight's.
A run that fails with an error is handed back unfinished (the error kept), to
be resumed; a daemon that stops hands it back as it stands.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from digidialog.domain import to_oslo
from digidialog.errors import DigidialogError
from digidialog.log import get_logger
from digidialog.store import NightlyRunRecord
from digidialog.sync.nightly import appointments, overview, roster, status, welcome
from digidialog.sync.nightly.context import LeaseLost, NightlyContext, RunState, Stopped

log = get_logger("sync.nightly")

Part = Callable[[NightlyContext, RunState, str], None]
PARTS: tuple[tuple[str, Part], ...] = (
    (roster.PART, roster.read_roster),
    (status.ASK, status.ask_status),
    (status.WAIT, status.await_answers),
    (overview.PART, overview.send_overviews),
    (welcome.PART, welcome.send_welcomes),
    (appointments.PART, appointments.reconcile_appointments),
)
PART_NAMES = tuple(name for name, _ in PARTS)
DONE = "done"
MANUAL = "manual"
SCHEDULE = "schedule"


@dataclass(frozen=True)
class Outcome:
    """How a run ended: ``completed``, ``stopped`` (handed back), ``failed`` (handed back with
    an error), ``lost`` (another daemon took it) or ``busy`` (another holds it)."""

    run_id: int | None
    municipality: str
    result: str
    seconds: float
    counts: dict[str, dict[str, int]]
    error: str | None = None

    @property
    def completed(self) -> bool:
        """Whether the run completed."""
        return self.result == "completed"


def night_of(now: datetime) -> str:
    """The night a run at ``now`` belongs to: the Oslo date, ``YYYY-MM-DD``."""
    return to_oslo(now).date().isoformat()


def execute(ctx: NightlyContext, record: NightlyRunRecord) -> Outcome:
    """Work the claimed run ``record`` from where it stands to its end."""
    state = RunState(ctx, record)
    began = time.monotonic()
    m = ctx.her_id
    log.info("nightly_run_started", municipality=m, run=state.id, night=state.night,
             part=state.part, resumed=record.cursor is not None or record.part != PART_NAMES[0])
    runs = ctx.store.nightly.runs
    try:
        start = PART_NAMES.index(state.part) if state.part in PART_NAMES else len(PARTS)
        for index in range(start, len(PARTS)):
            name, part = PARTS[index]
            following = PART_NAMES[index + 1] if index + 1 < len(PARTS) else DONE
            started = time.monotonic()
            part(ctx, state, following)
            # Written with the next part's first checkpoint (or at the end, below).
            state.count(name, "seconds", round(time.monotonic() - started))
    except Stopped:
        runs.release(state.id, ctx.owner)
        log.info("nightly_run_handed_back", municipality=m, run=state.id, part=state.part)
        return Outcome(state.id, m, "stopped", time.monotonic() - began, state.counts)
    except LeaseLost as error:
        log.warning("nightly_run_lost", municipality=m, run=state.id, reason=str(error))
        return Outcome(state.id, m, "lost", time.monotonic() - began, state.counts, str(error))
    except Exception as error:
        # Handed back with the reason, to be resumed: a passing failure (the EPJ is down)
        # mends itself, and a bug is kept in the log, not allowed to end the daemon's loop.
        problem = f"{type(error).__name__}: {error}"
        runs.release(state.id, ctx.owner, error=problem)
        # The reason's text may quote the EPJ, so the log masks it; the kind of error shows,
        # and ``digidialog status --json`` gives the whole reason from the store.
        log.warning("nightly_run_failed", municipality=m, run=state.id, part=state.part,
                    error=type(error).__name__, reason=problem,
                    exc_info=not isinstance(error, DigidialogError))
        return Outcome(state.id, m, "failed", time.monotonic() - began, state.counts, problem)
    runs.finish(state.id, ctx.owner, completed=True, counts=state.counts)
    seconds = time.monotonic() - began
    log.info("nightly_run_completed", municipality=m, run=state.id, night=state.night,
             seconds=round(seconds, 1), counts=state.counts)
    return Outcome(state.id, m, "completed", seconds, state.counts)


def owner_is_dead(owner: str | None) -> bool:
    """Whether a lease holder was a process on this host that no longer exists.

    Owners are named ``host:pid:...`` (:func:`~digidialog.sync.engine.default_owner`);
    a holder elsewhere, or named otherwise, is never presumed dead: its lease expires.
    """
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def run_now(ctx: NightlyContext) -> Outcome:
    """Resume the municipality's unfinished run, or start one for tonight, and work it.

    A run another live process holds is left to it (``busy``).
    """
    runs = ctx.store.nightly.runs
    m = ctx.her_id
    settings = ctx.settings
    for unfinished in runs.unfinished(m):
        dead = unfinished.owner if owner_is_dead(unfinished.owner) else None
        claimed = runs.claim(unfinished.id, ctx.owner, lease_seconds=settings.lease_seconds,
                             take_over=dead)
        if claimed is None:
            log.info("nightly_run_busy", municipality=m, run=unfinished.id)
            return Outcome(unfinished.id, m, "busy", 0.0, {},
                           f"run {unfinished.id} is held by {unfinished.owner}")
        return execute(ctx, claimed)
    night = night_of(ctx.clock())
    made = runs.create_next(m, night, trigger=MANUAL, first_part=PART_NAMES[0])
    if made is None:
        return Outcome(None, m, "busy", 0.0, {}, "another process started a run just now")
    claimed = runs.claim(made, ctx.owner, lease_seconds=settings.lease_seconds)
    if claimed is None:
        return Outcome(made, m, "busy", 0.0, {}, "another process claimed the new run")
    return execute(ctx, claimed)
