"""``digidialog demo``: a citizen's journey through the Helsenorge message formats.

Until the sync engine exists, the demo shows what digidialog can already do on
a bare machine: it builds each message of a home-service citizen's week,
encodes it, checks it against the schemas, decodes it again and shows what the
portal and the EPJ would see, together with the domain rules that decide what
is allowed. Given ``--examples DIR`` it also reads the official example
messages and shows how each one is understood.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from digidialog.cli.files import read_limited
from digidialog.domain import (
    Action,
    DigitalStatus,
    Proxy,
    ProxyScope,
    Service,
    ServiceEnrolment,
    answer_deadline,
    may_act_for,
    may_use_service,
)
from digidialog.domain.timezone import OSLO, to_oslo
from digidialog.errors import DigidialogError
from digidialog.helsenorge import PortalMessage, decode, encode
from digidialog.testing import samples

ExamplesOption = Annotated[
    Path | None,
    typer.Option(help="Also decode every *.xml in this folder (e.g. the official examples)"),
]


def _journey(now: datetime) -> list[tuple[str, PortalMessage]]:
    today = now.date()
    question = samples.citizen_message(now)
    request = samples.planned_appointments_request(now + timedelta(minutes=5))
    reply = samples.planned_appointments_reply(request, today)
    cancel = samples.period_cancellation(now + timedelta(hours=1), today + timedelta(days=7), 3)
    assigned = reply.appointments[1]
    return [
        ("Helsenorge: the citizen is digitally active",
         samples.digital_status_change(now - timedelta(days=1), DigitalStatus.ACTIVE)),
        ("EPJ: the services open to the citizen",
         samples.service_overview(now - timedelta(hours=20), today - timedelta(days=30))),
        ("Relative with fullmakt writes to the service", question),
        ("The EPJ receipts it", samples.receipt_for(question, now + timedelta(seconds=2))),
        ("Staff answers in the EPJ",
         samples.service_reply(question, now + timedelta(hours=3), "Kari Sykepleier")),
        ("Portal asks for the planned visits", request),
        ("EPJ answers from local state", reply),
        ("Relative cancels a period for two services", cancel),
        ("Municipality accepts", samples.cancellation_reply(cancel, now + timedelta(hours=2), ())),
        ("Visit registered done, pushed at once",
         samples.completed_visit(assigned, assigned.end + timedelta(minutes=3))),
    ]


def _summary(message: PortalMessage) -> str:
    parts = []
    if message.on_behalf_of is not None:
        parts.append(f"på vegne av ({message.on_behalf_of.relation.value})")
    if message.author:
        parts.append(f"author {message.author}")
    if message.appointments:
        states = ", ".join(a.status.value for a in message.appointments)
        count = len(message.appointments)
        parts.append(f"{count} visit{'' if count == 1 else 's'} ({states})")
    if message.cancellation is not None:
        c = message.cancellation
        parts.append(f"{c.kind.value} {to_oslo(c.start):%d.%m}-{to_oslo(c.end):%d.%m} "
                     f"services {','.join(c.service_ids)}")
    if message.decision is not None:
        parts.append(message.decision.value)
    if message.receipt is not None:
        parts.append(f"receipt {message.receipt.status.value}")
    if message.digital_status is not None:
        parts.append(message.digital_status.value)
    if message.services:
        parts.append(f"{len(message.services)} open services")
    return "; ".join(parts)


def _rules(console: Console, now: datetime) -> None:
    citizen, relative = samples.CITIZEN, samples.RELATIVE
    proxy = Proxy(holder=relative.to_person(), citizen_id=citizen.id, relation=relative.relation,
                  scope=ProxyScope.APPOINTMENTS_AND_PRACTITIONERS,
                  valid_from=now.date() - timedelta(days=10))
    service = Service(vendor_code="HSP", service_id=samples.HOME_NURSING_ID,
                      name="Hjemmesykepleie", her_id="95316", open_for_dialog=True)
    closed = service.model_copy(update={"service_id": "99", "open_for_dialog": False})
    enrolled = [ServiceEnrolment(citizen_id=citizen.id, service_id=service.service_id,
                                 start=now.date() - timedelta(days=90))]
    table = Table(title="Domain rules", show_lines=False)
    table.add_column("question", overflow="fold")
    table.add_column("answer", overflow="fold")
    checks: list[tuple[str, Callable[[], object]]] = [
        ("may the relative cancel a visit?",
         lambda: may_act_for(relative.id, citizen.id, Action.CANCEL_APPOINTMENT, [proxy], now)),
        ("may the relative write a message? (scope: appointments only)",
         lambda: may_act_for(relative.id, citizen.id, Action.WRITE_MESSAGE, [proxy], now)),
        ("may the citizen write to Hjemmesykepleie?",
         lambda: may_use_service(service, citizen.id, enrolled, now.date())),
        ("may the citizen write to a closed service?",
         lambda: may_use_service(closed, citizen.id, enrolled, now.date())),
        ("when is a message sent now due?",
         lambda: f"{due_by(answer_deadline(now))} (the next working day)"),
    ]
    for question, answer in checks:
        result = answer()
        text = result if isinstance(result, str) else (
            "yes" if result else f"no: {getattr(result, 'reason', '')}")
        table.add_row(question, text)
    console.print(table)


def due_by(deadline: datetime) -> str:
    """A deadline at midnight as the day it ends: ``by the end of Monday 7 December``.

    :func:`answer_deadline` returns the first instant past the deadline (00:00
    of the following day), which read as a time names the wrong day.
    """
    day = (to_oslo(deadline) - timedelta(microseconds=1)).date()
    return f"by the end of {day:%A} {day.day} {day:%B}"


def example_title(name: str) -> tuple[str, str]:
    """An official example's file name as its process and its title.

    The files are named ``PROCESS_VERSION__Title_with_underscores.xml``; the
    long shared prefix is what a narrow table would keep, and the title what
    tells the files apart, so the table groups by the one and shows the other.
    Underscores become spaces, so that both wrap between words.
    """
    process, separator, title = name.removesuffix(".xml").partition("__")
    if not separator:
        return "", name
    return process.replace("_", " ").strip(), title.replace("_", " ").strip()


def _examples(console: Console, folder: Path) -> None:
    table = Table(title=f"Official examples in {folder}",
                  caption="files are named PROCESS__Title.xml; underscores shown as spaces")
    table.add_column("process / title", overflow="fold")
    table.add_column("understood as", overflow="fold")
    shown_process = None
    for path in sorted(folder.glob("*.xml")):
        process, title = example_title(path.name)
        if process != shown_process:
            table.add_section()
            table.add_row(f"[bold]{escape(process)}[/bold]", "")
            shown_process = process
        try:
            message = decode(read_limited(path))
            encode(message)
            outcome = f"{message.function.value} ({message.code}); re-encodes valid"
        except DigidialogError as error:
            outcome = f"refused: {error}"
        table.add_row(escape(f"  {title}"), escape(outcome))
    console.print(table)


def demo(examples: ExamplesOption = None) -> None:
    """Walk a citizen's week through the Helsenorge formats and the domain rules."""
    console = Console()
    now = datetime.now(OSLO).replace(microsecond=0)
    journey = _journey(now)
    table = Table(title="A week of home services, message by message")
    table.add_column("#", justify="right")
    table.add_column("step", overflow="fold")
    # The function names tell the rows apart: never wrapped (the widest column would be
    # narrowed first, and cut), the code on a line of its own to keep the column narrow.
    table.add_column("function (code)", no_wrap=True, overflow="fold")
    table.add_column("bytes", justify="right")
    table.add_column("what it carries", overflow="fold")
    for number, (step, message) in enumerate(journey, start=1):
        xml = encode(message)  # validated against the schemas before it is returned
        again = decode(xml)
        if again.model_dump(exclude={"warnings"}) != message.model_dump(exclude={"warnings"}):
            typer.echo(f"round trip changed step {number}", err=True)
            raise typer.Exit(1)
        table.add_row(str(number), step, f"{again.function.value}\n({again.code})",
                      str(len(xml)), escape(_summary(again)))
    console.print(table)
    _rules(console, now)
    if examples is not None:
        _examples(console, examples)
    today: date = now.date()
    console.print(f"Every message above was encoded, validated and decoded again on {today}.")
