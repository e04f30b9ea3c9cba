"""``digidialog epj ...``: look into an EPJ through its adapter.

``epj`` prints domain JSON on stdout, through the vendor's adapter, so an
operator sees exactly what the sync engine would see. ``digidialog mock-epj``
(:mod:`digidialog.cli.mock`) plays an EPJ to point it at.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import TypeAdapter

from digidialog.adapters import registry
from digidialog.adapters.contract import ChangeBatch, EpjAdapter
from digidialog.adapters.registry import AdapterSettings
from digidialog.adapters.tls import check_tls_files
from digidialog.domain import Appointment
from digidialog.domain.timezone import OSLO
from digidialog.errors import DigidialogError, FatalError

PASSWORD_VARIABLE = "DIGIDIALOG_EPJ_PASSWORD"  # noqa: S105 - the name of a variable
"""Where the password is read from when neither --password nor --password-env is given."""

epj_app = typer.Typer(no_args_is_help=True, add_completion=False,
                      help="Look into an EPJ through its adapter; prints domain JSON.")

Vendor = Annotated[str, typer.Option("--vendor", help="gerica, profil or cosdoc")]
Url = Annotated[str, typer.Option("--url", help="The vendor's {base} URL, without service path")]
Username = Annotated[str | None, typer.Option(help="WS-Security (Gerica) or HTTP Basic (Profil)")]
Password = Annotated[str | None, typer.Option(
    help="Password for --username; other users see it in `ps`: prefer --password-env or "
         f"{PASSWORD_VARIABLE}")]
PasswordEnv = Annotated[str | None, typer.Option(
    "--password-env", metavar="NAME", help="Read the password from environment variable NAME")]
ClientCert = Annotated[Path | None, typer.Option("--client-cert", help="Mutual TLS certificate")]
ClientKey = Annotated[Path | None, typer.Option("--client-key", help="Mutual TLS private key")]
Ca = Annotated[Path | None, typer.Option("--ca", help="CA that must have signed the server")]
Timeout = Annotated[float, typer.Option(help="Seconds per call")]
Options = Annotated[list[str] | None, typer.Option(
    "--option", help="A vendor setting KEY=VALUE, repeatable (Profil: event_store=PATH)")]

_APPOINTMENTS = TypeAdapter(list[Appointment])


def _adapter(vendor: str, url: str, username: str | None, password: str | None,
             client_cert: Path | None, client_key: Path | None, ca: Path | None,
             timeout: float, options: list[str] | None) -> EpjAdapter:
    plugin = registry.load(vendor)
    return plugin.create(AdapterSettings(
        base_url=url.rstrip("/"), username=username, password=password,
        client_cert=client_cert, client_key=client_key, ca=ca, timeout=timeout,
        options=_settings_options(options or []),
    ))


def _settings_options(given: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for item in given:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise FatalError(f"--option takes KEY=VALUE, not {item!r}")
        options[key.strip()] = value
    return options


def _emit(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


_OPTION_NAMES = {"client_cert": "--client-cert", "client_key": "--client-key", "ca": "--ca"}


def _password(given: str | None, variable: str | None) -> str | None:
    """The password: --password, else the variable --password-env names, else
    DIGIDIALOG_EPJ_PASSWORD, else none."""
    if given is not None and variable is not None:
        raise FatalError("give --password or --password-env, not both")
    if variable is None:
        return given if given is not None else os.environ.get(PASSWORD_VARIABLE)
    value = os.environ.get(variable)
    if not value:
        raise FatalError(f"--password-env {variable}: the variable is "
                         f"{'empty' if value == '' else 'not set'}")
    return value


def _run(vendor: str, connection: dict[str, Any], action: Any) -> None:
    try:
        connection["password"] = _password(connection["password"],
                                           connection.pop("password_env"))
        # Before the first call, so that a wrong file is named, not met inside OpenSSL.
        check_tls_files(client_cert=connection["client_cert"],
                        client_key=connection["client_key"], ca=connection["ca"],
                        names=_OPTION_NAMES)
        adapter = _adapter(vendor, **connection)
        try:
            _emit(action(adapter))
        finally:
            adapter.close()
    except DigidialogError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def _connection(url: str, username: str | None, password: str | None, password_env: str | None,
                client_cert: Path | None, client_key: Path | None, ca: Path | None,
                timeout: float, options: list[str] | None) -> dict[str, Any]:
    return {"url": url, "username": username, "password": password,
            "password_env": password_env, "client_cert": client_cert,
            "client_key": client_key, "ca": ca, "timeout": timeout, "options": options}


@epj_app.command()
def services(vendor: Vendor, url: Url, username: Username = None, password: Password = None,
             password_env: PasswordEnv = None, client_cert: ClientCert = None,
             client_key: ClientKey = None, ca: Ca = None, timeout: Timeout = 10.0,
             option: Options = None) -> None:
    """The EPJ's services and whether each is open for digital dialog."""
    _run(vendor, _connection(url, username, password, password_env, client_cert, client_key, ca,
                             timeout, option),
         lambda a: [s.model_dump(mode="json") for s in a.services()])


@epj_app.command()
def citizens(vendor: Vendor, url: Url, username: Username = None, password: Password = None,
             password_env: PasswordEnv = None, client_cert: ClientCert = None,
             client_key: ClientKey = None, ca: Ca = None, timeout: Timeout = 10.0,
             option: Options = None) -> None:
    """Everyone receiving services, with their services and digital status."""
    _run(vendor, _connection(url, username, password, password_env, client_cert, client_key, ca,
                             timeout, option),
         lambda a: [c.model_dump(mode="json") for c in a.citizens()])


@epj_app.command()
def appointments(
    vendor: Vendor, url: Url,
    citizen: Annotated[str, typer.Option("--citizen", help="The citizen's national id")],
    from_: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD")],
    to: Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (inclusive)")],
    username: Username = None, password: Password = None, password_env: PasswordEnv = None,
    client_cert: ClientCert = None, client_key: ClientKey = None, ca: Ca = None,
    timeout: Timeout = 10.0, option: Options = None,
) -> None:
    """A citizen's appointments in the period, in the form `digidialog decode` uses."""
    try:
        first, last = date.fromisoformat(from_), date.fromisoformat(to)
    except ValueError:
        typer.echo("error: --from and --to are dates, YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None
    start = datetime.combine(first, clock(0), tzinfo=OSLO)
    end = datetime.combine(last + timedelta(days=1), clock(0), tzinfo=OSLO)
    _run(vendor, _connection(url, username, password, password_env, client_cert, client_key, ca,
                             timeout, option),
         lambda a: _APPOINTMENTS.dump_python(a.appointments(citizen, start, end), mode="json"))


@epj_app.command()
def changes(
    vendor: Vendor, url: Url,
    since: Annotated[str | None, typer.Option("--since", help="Checkpoint from an earlier run")
                     ] = None,
    username: Username = None, password: Password = None, password_env: PasswordEnv = None,
    client_cert: ClientCert = None, client_key: ClientKey = None, ca: Ca = None,
    timeout: Timeout = 10.0, option: Options = None,
) -> None:
    """What changed after a checkpoint: {"events": [...], "checkpoint": ...}."""

    def read(adapter: EpjAdapter) -> dict[str, Any]:
        batch: ChangeBatch = adapter.changes(since)
        dumped = batch.model_dump(mode="json")
        return {"events": dumped["events"], "checkpoint": batch.checkpoint}

    _run(vendor, _connection(url, username, password, password_env, client_cert, client_key, ca,
                             timeout, option),
         read)
