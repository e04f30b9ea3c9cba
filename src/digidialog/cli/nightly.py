"""``digidialog sync nightly``: one nightly run now, in the foreground.

For each municipality in the configuration (or the one ``--municipality``
names) it resumes the run left unfinished, or starts one for tonight, and
works it to its end while moving the engine's work along itself (sending the
questions, taking the portal's answers), as a daemon would. Then it sends
what the run queued, for at most ``--drain`` seconds; what is left is sent by
the daemon. A running daemon may work beside it: they share the work through
the store's leases. On a terminal it draws a progress bar; the logs get
``nightly_progress`` events either way. Exit 0 only when every run completed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichBar
from rich.table import Table

from digidialog.adapters import registry
from digidialog.cli.common import ConfigOption, configuration, fail
from digidialog.errors import DigidialogError

if TYPE_CHECKING:  # the engine is loaded only when the command runs
    from digidialog.store import Store
    from digidialog.sync.engine import Engine
    from digidialog.sync.nightly import Outcome, Progress
    from digidialog.transport import Transport

LISTEN_SECONDS = 0.1
"""How long the run waits on a municipality's queue for the portal each time it pumps."""

sync_app = typer.Typer(no_args_is_help=True, add_completion=False,
                       help="Run the engine's jobs now, in the foreground.")

MunicipalityOption = Annotated[str | None, typer.Option(
    "--municipality", help="Only this municipality (its HER-id); default: every one")]
AnswerOption = Annotated[float, typer.Option(
    "--answer-timeout", min=0.0,
    help="Seconds to wait for the portal's answers to the status questions")]
DrainOption = Annotated[float, typer.Option(
    "--drain", min=0.0, help="Seconds at most to send what the run queued, afterwards")]


class BarProgress:
    """A rich progress bar: one line per part of each municipality's run."""

    def __init__(self, bar: RichBar) -> None:
        self.bar = bar
        self._tasks: dict[tuple[str, str], TaskID] = {}

    def begin(self, municipality: str, part: str, total: int | None) -> None:
        """A line for the part."""
        key = (municipality, part)
        if key in self._tasks:
            self.bar.reset(self._tasks[key], total=total)
        else:
            self._tasks[key] = self.bar.add_task(f"{municipality} {part}", total=total)

    def advance(self, municipality: str, part: str, done: int) -> None:
        """Move the part's line."""
        task = self._tasks.get((municipality, part))
        if task is not None:
            self.bar.advance(task, done)

    def end(self, municipality: str, part: str, counts: dict[str, int]) -> None:
        """Fill the part's line, and show what it counted."""
        task = self._tasks.get((municipality, part))
        if task is None:
            task = self._tasks[(municipality, part)] = self.bar.add_task(
                f"{municipality} {part}", total=1)
        shown = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
        total = self.bar.tasks[task].total
        self.bar.update(task, completed=total if total is not None else 1,
                        total=total if total is not None else 1,
                        description=f"{municipality} {part}" + (f" ({shown})" if shown else ""))


@contextmanager
def _progress(console: Console) -> Iterator[Progress]:
    from digidialog.sync.nightly import LogProgress, Several  # noqa: PLC0415

    logs = LogProgress()
    if not console.is_terminal:
        yield logs
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with RichBar(*columns, console=console, transient=False) as bar:
        yield Several([logs, BarProgress(bar)])


def _now() -> datetime:
    return datetime.now(UTC)


def nightly(config: ConfigOption = None, municipality: MunicipalityOption = None,
            answer_timeout: AnswerOption = 900.0, drain: DrainOption = 300.0) -> None:
    """One nightly run now: digital status, service overviews, welcomes, appointments."""
    from digidialog.daemon.app import (  # noqa: PLC0415 - the engine loads only here
        broker_factory,
        declare_missing_queues,
        municipality_context,
        open_store,
        transport_factory,
    )
    from digidialog.daemon.protection import build_protection  # noqa: PLC0415
    from digidialog.sync.engine import Engine, default_owner  # noqa: PLC0415
    from digidialog.sync.nightly import NightlyContext, NightlySettings, run_now  # noqa: PLC0415

    settings = configuration(config)
    chosen = [m for m in settings.municipalities if municipality in (None, m.her_id)]
    if not chosen:
        raise fail(f"no municipality with HER-id {municipality} in the configuration")
    outcomes: list[Outcome] = []
    console = Console(stderr=True)
    with ExitStack() as stack:
        try:
            store = open_store(settings)
            stack.callback(store.close)
            contexts = []
            for entry in chosen:
                adapter = registry.load(entry.vendor).create(entry.epj.adapter_settings())
                stack.callback(adapter.close)
                contexts.append(municipality_context(settings, entry, adapter))
            # As `digidialog run` does: the same protection, the queues it needs declared.
            transports = transport_factory(settings, store, build_protection(settings))
            probe = broker_factory(settings, store)()
            stack.callback(probe.close)
            declare_missing_queues(settings, probe)
        except DigidialogError as error:
            raise fail(f"the nightly run cannot start: {error}") from None
        engine = Engine(store, contexts, transports)
        listener = transports()
        stack.callback(listener.close)
        pump = _pump(engine, store, [c.her_id for c in contexts], listener)
        owner = default_owner()
        with _progress(console) as progress:
            for context in contexts:
                run = NightlyContext(
                    store=store, municipality=context, owner=owner, clock=_now,
                    settings=NightlySettings(answer_timeout=answer_timeout), pump=pump,
                    progress=progress)
                try:
                    outcomes.append(run_now(run))
                except DigidialogError as error:
                    raise fail(f"{context.her_id}: {error}") from None
        _drain(pump, drain)
    _report(outcomes)
    if not all(o.completed for o in outcomes):
        raise typer.Exit(1)


def _pump(engine: Engine, store: Store, municipalities: list[str],
          listener: Transport) -> Callable[[], bool]:
    """Move the engine's work along once: wait a moment on each municipality's queue (the
    engine's own step only looks), then one step; whether anything moved."""
    from digidialog.sync.receiver import receive_one  # noqa: PLC0415
    from digidialog.transport import async_queue  # noqa: PLC0415

    def pump() -> bool:
        arrived = False
        for her_id in municipalities:
            arrived |= receive_one(listener, store, municipality=her_id,
                                   queue=async_queue(her_id), timeout=LISTEN_SECONDS)
        return engine.step() or arrived

    return pump


def _drain(pump: Callable[[], bool], seconds: float) -> None:
    """Pump until nothing moves or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if not pump():
                return
        except DigidialogError as error:
            typer.echo(f"warning: sending stopped: {error}", err=True)
            return


def _report(outcomes: list[Outcome]) -> None:
    table = Table("municipality", "run", "result", "seconds", "counted", title="nightly")
    for outcome in outcomes:
        counted = "; ".join(
            f"{part}: " + ", ".join(f"{k} {v}" for k, v in sorted(values.items()))
            for part, values in outcome.counts.items() if values)
        result = outcome.result + (f" ({outcome.error})" if outcome.error else "")
        table.add_row(outcome.municipality, str(outcome.run_id or "-"), result,
                      f"{outcome.seconds:.1f}", counted or "-")
    Console(file=sys.stdout).print(table)
