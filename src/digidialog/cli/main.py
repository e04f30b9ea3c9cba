"""The ``digidialog`` command."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


@app.command()
def version() -> None:
    """Print digidialog's version."""
    from digidialog import __version__  # noqa: PLC0415

    typer.echo(__version__)
