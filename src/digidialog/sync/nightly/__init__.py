"""The nightly job: who is digitally active, which services each citizen has, their
appointments, and a welcome for the newly active; once a night per municipality.

- :func:`run_now` works one run in the foreground (``digidialog sync nightly``);
- :class:`NightlyScheduler` / :func:`nightly_loops` run it inside ``digidialog run`` at
  each municipality's ``nightly`` time, once per night whatever the number of daemons;
- :class:`StatusReplies` handles the portal's ``28``/``29`` answers (registered with the
  inbound handler) and :func:`push_statuses` tells the EPJ (an outbox job kind).

A run is resumable at every batch; see :mod:`.run` for its parts.
"""

from digidialog.sync.nightly.context import (
    LeaseLost,
    NightlyContext,
    NightlySettings,
    RunState,
    Stopped,
)
from digidialog.sync.nightly.progress import LogProgress, NoProgress, Progress, Several
from digidialog.sync.nightly.replies import EPJ_STATUS_BATCH, StatusReplies, push_statuses
from digidialog.sync.nightly.run import PART_NAMES, Outcome, execute, night_of, run_now
from digidialog.sync.nightly.schedule import (
    NightlyObserver,
    NightlyScheduler,
    Schedule,
    due_night,
    nightly_loops,
)

__all__ = [
    "EPJ_STATUS_BATCH",
    "PART_NAMES",
    "LeaseLost",
    "LogProgress",
    "NightlyContext",
    "NightlyObserver",
    "NightlyScheduler",
    "NightlySettings",
    "NoProgress",
    "Outcome",
    "Progress",
    "RunState",
    "Schedule",
    "Several",
    "StatusReplies",
    "Stopped",
    "due_night",
    "execute",
    "night_of",
    "nightly_loops",
    "push_statuses",
    "run_now",
]
