"""``digidialog mock-epj``: run a vendor's stateful mock for people and clients to talk to.

The mock comes from the vendor's ``digidialog.mocks`` entry point and needs
its ``mock`` extra; without it the command says which one to install. It
prints what a client needs (base URL, credentials or certificate files, and
for Profil the event store its pushes land in), serves until Ctrl-C or
SIGTERM, and then removes what it wrote (certificates with private keys,
stores).
"""

from __future__ import annotations

import signal
import time
from datetime import date
from types import FrameType
from typing import Annotated

import typer

from digidialog.errors import DigidialogError
from digidialog.testing import mocks

Vendor = Annotated[str, typer.Option("--vendor", help="gerica, profil or cosdoc")]
MAX_PORT = 65535


def _refuse(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # SIGTERM (a service manager, `kill`) ends the mock the way Ctrl-C does, so that
    # the cleanup below runs and no private key is left behind.
    raise KeyboardInterrupt


def mock_epj(
    vendor: Vendor,
    port: Annotated[int, typer.Option(help="Port to listen on, 1-65535 (0: any free port)")] = 0,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    seed_citizens: Annotated[int, typer.Option("--seed-citizens", help="Citizens to seed")] = 20,
    first_day: Annotated[str | None, typer.Option(
        "--first-day", help="Day the seeded visits start from, YYYY-MM-DD (default: today)")
    ] = None,
    example_changes: Annotated[bool, typer.Option(
        "--example-changes/--no-example-changes",
        help="Start the change feed with a staff message, a visit done and a cancellation "
             "decided")] = True,
) -> None:
    """Run a vendor's stateful mock until interrupted; prints what a client needs."""
    if not 0 <= port <= MAX_PORT:
        raise _refuse(f"--port must be between 0 and {MAX_PORT} (0: any free port)")
    if seed_citizens < 0:
        raise _refuse("--seed-citizens must be 0 or more")
    try:
        day = None if first_day is None else date.fromisoformat(first_day)
    except ValueError:
        raise _refuse("--first-day is a date, YYYY-MM-DD") from None
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        harness = mocks.start(vendor, seed_citizens=seed_citizens, first_day=day,
                              example_changes=example_changes, host=host, port=port)
    except KeyboardInterrupt:
        return  # stopped while starting: mocks.start has cleaned up
    except DigidialogError as error:
        raise _refuse(str(error)) from None
    except OSError as error:
        raise _refuse(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    try:
        for key, value in mocks.connection_details(harness.settings()).items():
            typer.echo(f"{key}: {value}")
        typer.echo("Ctrl-C stops the mock.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        harness.stop()
