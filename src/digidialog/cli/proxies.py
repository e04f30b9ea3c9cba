"""``digidialog proxy``: the proxies a municipality has registered (add, list, remove).

Helsenorge checks a relative's proxy before it sends anything and tells us
only the relation. What the municipality knows beyond that (a fullmakt for
appointments only, a guardianship that ended) is registered here and held
against the relative by the engine (see the README, "Proxies").
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from digidialog.cli.common import ConfigOption, JsonOption, fail, opened_store
from digidialog.domain import Person, Proxy, ProxyScope, Relation
from digidialog.domain.national_id import mask
from digidialog.domain.timezone import OSLO

proxy_app = typer.Typer(no_args_is_help=True, add_completion=False,
                        help="Proxies the municipality registered: add, list, remove.")

MunicipalityOption = Annotated[str, typer.Option(
    "--municipality", help="The municipality's HER-id (as in the configuration)")]
CitizenArgument = Annotated[str, typer.Argument(help="The citizen's national id")]
HolderArgument = Annotated[str, typer.Argument(help="The relative's national id")]


def _check_municipality(config_municipalities: list[str], her_id: str) -> None:
    if her_id not in config_municipalities:
        raise fail(f"--municipality {her_id} is not a municipality of the configuration")


@proxy_app.command("add")
def proxy_add(
    citizen: CitizenArgument, holder: HolderArgument, municipality: MunicipalityOption,
    given_name: Annotated[str, typer.Option(help="The relative's given name")],
    family_name: Annotated[str, typer.Option(help="The relative's family name")],
    relation: Annotated[Relation, typer.Option(help="FU fullmakt, FO foreldreansvar, "
                                                    "VE vergemål")] = Relation.FULLMAKT,
    scope: Annotated[ProxyScope, typer.Option(help="all, or appointments_and_practitioners "
                                                   "(timeavtaler)")] = ProxyScope.ALL,
    valid_from: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today)")] = None,
    valid_to: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: no end)")] = None,
    config: ConfigOption = None,
) -> None:
    """Register (or replace) what a relative may do for a citizen, and for how long."""
    try:
        proxy = Proxy(
            holder=Person(national_id=holder, given_name=given_name, family_name=family_name),
            citizen_id=citizen, relation=relation, scope=scope,
            valid_from=date.fromisoformat(valid_from) if valid_from else datetime.now(OSLO).date(),
            valid_to=date.fromisoformat(valid_to) if valid_to else None)
    except (ValidationError, ValueError) as error:
        raise fail(f"the proxy is not valid: {_first_problem(error)}") from None
    with opened_store(config) as (settings, store):
        _check_municipality([m.her_id for m in settings.municipalities], municipality)
        with store.transaction() as conn:
            store.proxies.put(conn, municipality, proxy)
    typer.echo(f"registered: {mask(holder)} for {mask(citizen)} ({scope.value})")


@proxy_app.command("remove")
def proxy_remove(citizen: CitizenArgument, holder: HolderArgument,
                 municipality: MunicipalityOption, config: ConfigOption = None) -> None:
    """Withdraw a registered proxy."""
    with opened_store(config) as (settings, store):
        _check_municipality([m.her_id for m in settings.municipalities], municipality)
        with store.transaction() as conn:
            removed = store.proxies.remove(conn, municipality, citizen, holder)
    if not removed:
        raise fail("no such proxy is registered")
    typer.echo("removed")


@proxy_app.command("list")
def proxy_list(citizen: CitizenArgument, municipality: MunicipalityOption,
               config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """The proxies registered for a citizen."""
    with opened_store(config) as (settings, store):
        _check_municipality([m.her_id for m in settings.municipalities], municipality)
        found = store.proxies.of(municipality, citizen)
    if as_json:
        typer.echo(json.dumps([p.model_dump(mode="json") for p in found], ensure_ascii=False,
                              indent=2))
        return
    table = Table("holder", "relation", "scope", "from", "to")
    for proxy in found:
        table.add_row(mask(proxy.holder.national_id), proxy.relation.value, proxy.scope.value,
                      proxy.valid_from.isoformat(),
                      proxy.valid_to.isoformat() if proxy.valid_to else "-")
    Console().print(table)


def _first_problem(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return str(error)
