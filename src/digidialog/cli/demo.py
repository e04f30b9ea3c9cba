"""``digidialog demo``: a home-service citizen's week, end to end, on a bare machine.

With no configuration it starts the three vendor mocks (Gerica, Profil,
CosDoc), the daemon on the embedded default (SQLite, queues in the store)
serving a municipality on each, and the portal simulator, then plays the
week of :mod:`digidialog.demo.journey` against each and prints what each side
saw (:mod:`digidialog.demo.report`). The messages exchanged are written to a
folder the report names. Given ``--examples DIR`` it also reads the official
example messages and shows how each one is understood.
"""

from __future__ import annotations

import tempfile
from contextlib import redirect_stderr
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from digidialog.cli.files import read_limited
from digidialog.errors import DigidialogError
from digidialog.helsenorge import decode, encode

OutOption = Annotated[
    Path | None,
    typer.Option(help="Where to keep the store, the daemon's log and the messages exchanged "
                      "(default: a new temporary folder)"),
]
ExamplesOption = Annotated[
    Path | None,
    typer.Option(help="Also decode every *.xml in this folder (e.g. the official examples)"),
]


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


def demo(examples: ExamplesOption = None, out: OutOption = None) -> None:
    """Play a home-service citizen's week through the daemon, against the three vendor mocks."""
    console = Console()
    try:
        from digidialog.demo.journey import play_week  # noqa: PLC0415 - needs the mock extra
        from digidialog.demo.report import show  # noqa: PLC0415
        from digidialog.demo.stage import stage  # noqa: PLC0415
    except ModuleNotFoundError as missing:
        typer.echo(f"error: the demo needs the mock extra ({missing.name} is missing): "
                   "pip install 'digidialog[mock]' and each adapter with its [mock] extra",
                   err=True)
        raise typer.Exit(1) from None
    folder = out or Path(tempfile.mkdtemp(prefix="digidialog-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    console.print(f"Starting the Gerica, Profil and CosDoc mocks, the daemon (SQLite and "
                  f"queues in {escape(str(folder / 'demo.db'))}) and the portal simulator; "
                  f"the daemon's log goes to {escape(str(folder / 'daemon.log'))}.")
    with open(folder / "daemon.log", "w", encoding="utf-8") as daemon_log, \
            redirect_stderr(daemon_log):
        try:
            with stage(folder) as playing:
                journeys = [play_week(playing, m) for m in playing.municipalities]
                ok = show(console, journeys, playing.portal, folder)
        except (DigidialogError, OSError) as error:
            typer.echo(f"error: the demo could not run: {error}", err=True)
            raise typer.Exit(1) from None
    if examples is not None:
        _examples(console, examples)
    if not ok:
        raise typer.Exit(1)
