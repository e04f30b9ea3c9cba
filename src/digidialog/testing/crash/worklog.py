"""What a daemon did, read from its log: the inbox and outbox jobs it ended, and the lease
owner name of each incarnation.

The daemon logs ids only (job numbers, its owner name): this reads nothing
personal. Every portal message handled logs its inbox job; not every kind of
outbox job logs its end (an EPJ event turned into a message logs the message
it queued, not the job), so this is evidence of work done, not a complete
count; the store says what is done.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from digidialog.sync.jobs import EPJ_DELIVER, PORTAL_MESSAGE, PORTAL_SEND

OUTBOX_DONE_EVENTS = frozenset({"sent to portal", "delivered to EPJ",
                                "cancellation registered in EPJ"})
"""Log events that end an outbox job, naming it (``job``)."""
INBOX_DONE_EVENT = "portal message handled"
"""The log event that ends an inbox job, naming it (``job``)."""
STARTED_EVENT = "daemon started"
ALWAYS_LOGGED = frozenset({("inbox", PORTAL_MESSAGE), ("outbox", PORTAL_SEND),
                           ("outbox", EPJ_DELIVER)})
"""(queue, kind) of the jobs whose end is always logged when they succeed (well-formed
portal messages; a cancellation the EPJ refuses ends with another line)."""


@dataclass
class WorkLog:
    """One daemon's work over every incarnation, as its log tells it."""

    owners: list[str] = field(default_factory=list)
    """The lease owner of each incarnation, in order."""
    inbox: set[int] = field(default_factory=set)
    """Inbox jobs (portal messages) it handled."""
    outbox: set[int] = field(default_factory=set)
    """Outbox jobs whose end it logged."""

    @property
    def done(self) -> int:
        """Jobs whose end it logged."""
        return len(self.inbox) + len(self.outbox)

    def ended(self, queue: str, job: int) -> bool:
        """Whether it logged the end of ``job`` of ``queue`` (``inbox``, ``outbox``)."""
        return job in (self.inbox if queue == "inbox" else self.outbox)


def work_log(events: Iterable[Mapping[str, object]]) -> WorkLog:
    """Read a daemon's JSON log events (:meth:`.process.DaemonProcess.events`)."""
    found = WorkLog()
    for event in events:
        name, owner, job = event.get("event"), event.get("owner"), event.get("job")
        if name == STARTED_EVENT and isinstance(owner, str):
            found.owners.append(owner)
        elif name in OUTBOX_DONE_EVENTS and isinstance(job, int):
            found.outbox.add(job)
        elif name == INBOX_DONE_EVENT and isinstance(job, int):
            found.inbox.add(job)
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
