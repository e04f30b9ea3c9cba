"""What the operator's commands share: the ``--config`` and ``--json`` options, reading the
configuration, opening the store, and failing with a message instead of a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from digidialog.daemon.config import ConfigError, load_config
from digidialog.daemon.config_models import DaemonConfig
from digidialog.errors import DigidialogError
from digidialog.store import Store

ConfigOption = Annotated[Path | None, typer.Option(
    "--config", help="The configuration file (default: $DIGIDIALOG_CONFIG, ./digidialog.toml)")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")]


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr; raise what this returns to exit with 1."""
    typer.echo(message if message.startswith("error") else f"error: {message}", err=True)
    return typer.Exit(1)


def configuration(path: Path | None) -> DaemonConfig:
    """The configuration at ``path`` (or the default), or exit naming every problem."""
    try:
        return load_config(path)
    except ConfigError as error:
        raise fail(str(error)) from None


@contextmanager
def opened_store(path: Path | None) -> Iterator[tuple[DaemonConfig, Store]]:
    """The configuration and its store, open for the block; a store error exits with 1."""
    config = configuration(path)
    try:
        store = Store.open(config.store.connection_url())
    except DigidialogError as error:
        raise fail(f"the store cannot be opened: {error}") from None
    try:
        yield config, store
    except DigidialogError as error:
        raise fail(str(error)) from None
    finally:
        store.close()
