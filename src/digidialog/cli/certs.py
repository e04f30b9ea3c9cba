"""``digidialog certs check``: the certificates of message protection, and what is wrong.

Reads the configuration as the daemon does (every key and file checked), then
lists per party (our own keys, and every party file) each certificate: what
it is for, when it expires and in how many days, and whether its dates, key
usage, chain to the trust store and revocation are right. Exit status 0 when
all is right, 1 when anything is wrong (a certificate that expires within
the warning period is flagged but not wrong yet).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from digidialog.cli.common import ConfigOption, JsonOption, configuration, fail
from digidialog.daemon.config import ConfigError

if TYPE_CHECKING:
    from digidialog.protection.expiry import HeldCertificate

certs_app = typer.Typer(no_args_is_help=True, add_completion=False,
                        help="The certificates of message protection (CMS).")

OK = "ok"


@certs_app.command("check")
def check(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Per party: which certificates are loaded, when they expire, chain and key usage."""
    # cryptography loads only here, as the engine does only for `run`
    from digidialog.daemon.protection import build_protection  # noqa: PLC0415
    from digidialog.protection.expiry import inventory  # noqa: PLC0415

    settings = configuration(config)
    cms = settings.portal.cms
    try:
        protection = build_protection(settings)
    except ConfigError as error:
        raise fail(str(error)) from None
    if protection is None or cms is None:
        typer.echo('message protection is off ([portal] protection = "none"): '
                   "no certificates are used")
        return
    now = datetime.now(UTC)
    warning = timedelta(days=cms.expiry_warning_days)
    found = inventory(protection)
    rows = [_row(held, now, warning) for held in found.certificates]
    failed = bool(found.unreadable) or any(row["problems"] for row in rows)
    if as_json:
        sys.stdout.write(json.dumps({"certificates": rows, "unreadable_party_files":
                                     found.unreadable, "ok": not failed}, indent=2) + "\n")
    else:
        _print(rows, found.unreadable, settings.portal.her_id, cms.expiry_warning_days)
    if failed:
        raise typer.Exit(1)


def _row(held: HeldCertificate, now: datetime, warning: timedelta) -> dict[str, Any]:
    from digidialog.protection.certificates import common_name, fingerprint  # noqa: PLC0415
    from digidialog.protection.revocation import Status  # noqa: PLC0415

    findings = held.findings
    revocation = findings.revocation
    return {
        "owner": held.owner, "holder": held.holder, "use": held.use,
        "certificate": common_name(held.certificate),
        "serial": f"{held.certificate.serial_number:#x}",
        "sha256": fingerprint(held.certificate),
        "expires": held.expires.isoformat(), "days_left": held.days_left(now),
        "expires_soon": held.expires - now <= warning,
        "validity": _said(findings.validity),
        "key_usage": _said(findings.usage),
        "chain": _said(findings.chain),
        "revocation": "not checked: no chain" if revocation is None else (
            OK if revocation.status is Status.GOOD else
            f"not checked: {revocation.detail}" if revocation.status is Status.UNCHECKED
            else revocation.detail),
        "problems": [f"{p.condition}: {p}" for p in findings.problems],
    }


def _said(problem: Exception | None) -> str:
    return OK if problem is None else str(problem)


def _print(rows: list[dict[str, Any]], unreadable: list[str], portal: str, days: int) -> None:
    console = Console(width=200)
    table = Table("party", "use", "certificate", "expires", "dates", "key usage", "chain",
                  "revocation", title="message protection: certificates")
    for row in rows:
        holder = f"ours ({row['holder']})" if row["owner"] == "own" else row["holder"]
        if row["owner"] == "party" and row["holder"] == portal:
            holder += " (portal)"
        left = row["days_left"]
        expires = f"{row['expires'][:10]} ({left} days)"
        if row["expires_soon"]:
            expires += " SOON" if left >= 0 else " EXPIRED"
        table.add_row(holder, row["use"], row["certificate"], expires,
                      *(_cell(row[k]) for k in ("validity", "key_usage", "chain", "revocation")))
    console.print(table)
    for row in rows:
        for problem in row["problems"]:
            console.print(f"problem: {row['holder']} {row['use']}: {problem}", markup=False)
    for problem in unreadable:
        console.print(f"problem: unreadable party file: {problem}", markup=False)
    soon = sum(row["expires_soon"] for row in rows)
    if soon:
        console.print(f"{soon} certificate(s) expire within {days} days", markup=False)


def _cell(text: str) -> str:
    return text if text == OK or text.startswith("not checked") else "FAILED"


__all__ = ["certs_app"]
