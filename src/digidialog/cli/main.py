"""digidialog: the bridge between a municipal EPJ and Helsenorge."""

from __future__ import annotations

from typing import Annotated

import typer

from digidialog import __version__, log
from digidialog.cli import certs, demo, epj, messages, mock, nightly, operate, proxies

# -h as well as --help, on every command (click hands the names down to subcommands).
app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__,
                  context_settings={"help_option_names": ["-h", "--help"]})


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _logging(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print digidialog's version and exit.")] = False,
) -> None:
    """Every command logs JSON lines to stderr, personal data masked."""
    log.configure()

app.command("validate")(messages.validate)
app.command("decode")(messages.decode_command)
app.command("encode")(messages.encode_command)
app.command("demo")(demo.demo)
app.add_typer(epj.epj_app, name="epj")
app.command("mock-epj")(mock.mock_epj)
app.command("run")(operate.run)
app.command("status")(operate.status)
app.command("overdue")(operate.overdue)
app.add_typer(operate.deadletter_app, name="deadletter")
app.add_typer(proxies.proxy_app, name="proxy")
app.add_typer(certs.certs_app, name="certs")
app.add_typer(nightly.sync_app, name="sync")
nightly.sync_app.command("nightly")(nightly.nightly)


@app.command()
def version() -> None:
    """Print digidialog's version."""
    typer.echo(__version__)


if __name__ == "__main__":  # python -m digidialog.cli.main, as tests start the daemon
    app()
