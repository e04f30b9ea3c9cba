"""What a daemon did, read from its log: the jobs it carried out and the portal messages it
handled, under which lease owner it ran.

The daemon logs ids only (job numbers, MsgIds, its owner name): this reads
nothing personal. Not every kind of job logs its end (an EPJ event turned into
a message logs the message it sent), so this is evidence of work done, not a
complete count; the store says what is done.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

JOB_DONE_EVENTS = frozenset({"sent to portal", "delivered to EPJ",
                             "cancellation registered in EPJ"})
"""Log events that end an outbox job, naming it (``job``)."""
HANDLED_EVENT = "portal message handled"
"""The log event that ends an inbox job, naming the portal message (``msg_id``)."""
STARTED_EVENT = "daemon started"


@dataclass
class WorkLog:
    """One daemon's work over every incarnation, as its log tells it."""

    owners: list[str] = field(default_factory=list)
    """The lease owner of each incarnation, in order."""
    jobs: set[int] = field(default_factory=set)
    """Outbox jobs whose end it logged."""
    handled: set[str] = field(default_factory=set)
    """MsgIds of the portal messages it handled (inbox jobs)."""

    @property
    def done(self) -> int:
        """Outbox jobs ended plus portal messages handled."""
        return len(self.jobs) + len(self.handled)


def work_log(events: Iterable[Mapping[str, object]]) -> WorkLog:
    """Read a daemon's JSON log events (:meth:`.process.DaemonProcess.events`)."""
    found = WorkLog()
    for event in events:
        name, owner, job, msg_id = (event.get(k) for k in ("event", "owner", "job", "msg_id"))
        if name == STARTED_EVENT and isinstance(owner, str):
            found.owners.append(owner)
        elif name in JOB_DONE_EVENTS and isinstance(job, int):
            found.jobs.add(job)
        elif name == HANDLED_EVENT and isinstance(msg_id, str):
            found.handled.add(msg_id)
    return found


def log_events(lines: Iterable[str]) -> list[dict[str, object]]:
    """The JSON events among a daemon's log lines (a kept ``daemon.log``, say)."""
    found = []
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            found.append(event)
    return found
