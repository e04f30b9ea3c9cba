"""digidialog: the bridge between a municipal EPJ and Helsenorge."""

from __future__ import annotations

import typer

from digidialog import __version__, log
from digidialog.cli import demo, epj, messages, mock

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


@app.callback()
def _logging() -> None:
    """Every command logs JSON lines to stderr, personal data masked."""
    log.configure()

app.command("validate")(messages.validate)
app.command("decode")(messages.decode_command)
app.command("encode")(messages.encode_command)
app.command("demo")(demo.demo)
app.add_typer(epj.epj_app, name="epj")
app.command("mock-epj")(mock.mock_epj)


@app.command()
def version() -> None:
    """Print digidialog's version."""
    typer.echo(__version__)
