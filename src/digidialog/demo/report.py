"""What the demo shows: the week as each side saw it, per vendor, and the messages on disk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from digidialog.domain.timezone import to_oslo
from digidialog.testing.portal import PortalSimulator

from .journey import Journey


def due_by(deadline: datetime) -> str:
    """A deadline at midnight as the day it ends: ``by the end of Monday 7 December``.

    :func:`~digidialog.domain.answer_deadline` returns the first instant past the
    deadline (00:00 of the following day), which read as a time names the wrong day.
    """
    day = (to_oslo(deadline) - timedelta(microseconds=1)).date()
    return f"by the end of {day:%A} {day.day} {day:%B}"


def timeline(journey: Journey) -> Table:
    """The week against one municipality: who did what, what the portal and the EPJ saw."""
    place = journey.municipal.place
    table = Table(title=f"A week at {place.name} ({place.vendor})", show_lines=True)
    table.add_column("when", overflow="fold")
    table.add_column("who: what", overflow="fold")
    table.add_column("Helsenorge saw", overflow="fold")
    table.add_column("the EPJ saw", overflow="fold")
    for step in journey.steps:
        mark = "" if step.ok else "[red]FAILED[/red] "
        table.add_row(step.day, f"{mark}{escape(step.actor)}: {escape(step.action)}",
                      escape(step.portal), escape(step.epj))
    return table


def by_vendor(journeys: list[Journey]) -> Table:
    """Every step against every vendor: done or not, and how long it took."""
    table = Table(title="The same week against each vendor's EPJ")
    table.add_column("step", overflow="fold")
    for journey in journeys:
        table.add_column(journey.municipal.place.vendor, justify="right", no_wrap=True)
    for n, step in enumerate(journeys[0].steps):
        cells = []
        for journey in journeys:
            done = journey.steps[n]
            cells.append(f"ok {done.seconds:.1f} s" if done.ok else "[red]FAILED[/red]")
        table.add_row(escape(f"{step.actor}: {step.action}"), *cells)
    return table


def write_messages(portal: PortalSimulator, journeys: list[Journey], folder: Path) -> int:
    """Every message each municipality exchanged with the portal, one file each; how many."""
    written = 0
    for journey in journeys:
        her_id = journey.municipal.place.her_id
        target = folder / journey.municipal.place.vendor
        target.mkdir(parents=True, exist_ok=True)
        exchanged: list[tuple[datetime | None, str, str, bytes]] = []
        for sent in portal.sent():
            if sent.message is not None and sent.message.receiver.her_ids[0] == her_id:
                exchanged.append((sent.envelope.application_timestamp, "to_municipality",
                                  f"{sent.message.function.value}-{sent.message.code}",
                                  sent.envelope.body))
        for received in portal.received(municipality=her_id):
            exchanged.append((received.at, "to_portal",
                              f"{received.function.value}-{received.message.code}",
                              received.envelope.body))
        exchanged.sort(key=lambda e: e[0] or datetime.min.replace(tzinfo=UTC))
        for number, (_, direction, what, body) in enumerate(exchanged, start=1):
            (target / f"{number:02d}-{direction}-{what}.xml").write_bytes(body)
            written += 1
    return written


def show(console: Console, journeys: list[Journey], portal: PortalSimulator,
         folder: Path) -> bool:
    """Print the report; whether every step of every vendor went through."""
    console.print(timeline(journeys[0]))
    console.print(by_vendor(journeys))
    written = write_messages(portal, journeys, folder / "messages")
    deadline = journeys[0].deadline
    if deadline is not None:
        console.print(f"The last message is due {due_by(deadline)} (the next working day); "
                      "`digidialog overdue` lists it once that has passed.")
    console.print(f"{written} messages exchanged with the portal are in "
                  f"{escape(str(folder / 'messages'))} (one folder per vendor, in order).")
    violations = portal.violations()
    if violations:
        console.print(f"[red]{len(violations)} protocol violation(s)[/red]: "
                      + "; ".join(escape(str(v)) for v in violations[:5]))
    return all(s.ok for j in journeys for s in j.steps) and not violations
