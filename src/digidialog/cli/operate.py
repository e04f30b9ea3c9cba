"""The operator's commands: run the daemon, see its state, handle what it parked.

``run``, ``status``, ``overdue`` and ``deadletter`` all take ``--config``
(default ``$DIGIDIALOG_CONFIG``, then ``./digidialog.toml``). A configuration
that cannot be used is refused with every problem named, before anything
starts; no command prints a traceback for an operator's mistake.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from digidialog.cli.common import ConfigOption, JsonOption, configuration, fail, opened_store
from digidialog.daemon.nightly import describe, last_run
from digidialog.domain import to_oslo
from digidialog.errors import DigidialogError

deadletter_app = typer.Typer(no_args_is_help=True, add_completion=False,
                             help="Work the engine parked, with the reason: list, show, retry.")


def _when(at: datetime | None) -> str:
    return "never" if at is None else to_oslo(at).strftime("%Y-%m-%d %H:%M:%S")


def _age(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "-"
    seconds = int((now - at).total_seconds())
    return f"{seconds // 3600}h {seconds % 3600 // 60}m" if seconds >= 3600 else f"{seconds}s"


def run(config: ConfigOption = None) -> None:
    """The daemon: portal queues, EPJ changes, HTTP; stops cleanly on SIGTERM or SIGINT."""
    from digidialog.daemon.app import Daemon  # noqa: PLC0415 - the engine loads only here

    settings = configuration(config)
    try:
        daemon = Daemon.open(settings)
    except DigidialogError as error:
        raise fail(f"the daemon cannot start: {error}") from None
    raise typer.Exit(daemon.run())


def status(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Per municipality: queue depths, vendor checkpoint and its age, dead letters, overdue."""
    now = datetime.now(UTC)
    with opened_store(config) as (settings, store):
        checkpoints = {c.municipality: c for c in store.checkpoints.all()}
        rows: list[dict[str, Any]] = []
        for municipality in settings.municipalities:
            her_id = municipality.her_id
            checkpoint = checkpoints.get(her_id)
            rows.append({
                "municipality": her_id, "name": municipality.name, "vendor": municipality.vendor,
                "inbox": store.inbox.depth(her_id), "outbox": store.outbox.depth(her_id),
                "checkpoint": checkpoint.value if checkpoint else None,
                "checkpoint_at": checkpoint.updated_at.isoformat() if checkpoint else None,
                "checkpoint_age": _age(checkpoint.updated_at if checkpoint else None, now),
                "nightly": last_run(store, her_id),
                "dead_letters": store.dead_letters.count(her_id),
                "overdue": len(store.threads.overdue(now, her_id)),
            })
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    table = Table("municipality", "vendor", "inbox waiting", "outbox waiting", "checkpoint",
                  "age", "nightly", "dead letters", "overdue", title="digidialog status")
    for row in rows:
        table.add_row(f"{row['name']} ({row['municipality']})", row["vendor"],
                      _waiting(row["inbox"]), _waiting(row["outbox"]),
                      str(row["checkpoint"] or "-"), row["checkpoint_age"],
                      describe(row["nightly"]),
                      str(row["dead_letters"]), str(row["overdue"]))
    Console().print(table)


def _waiting(depth: dict[str, int]) -> str:
    return f"{depth.get('pending', 0)} (+{depth.get('leased', 0)} in hand)"


def overdue(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Citizen messages past their answer deadline (the end of the next working day)."""
    now = datetime.now(UTC)
    with opened_store(config) as (settings, store):
        threads = [t for m in settings.municipalities for t in store.threads.overdue(now, m.her_id)]
    rows = [{"thread": t.root, "municipality": t.municipality, "service": t.service_code,
             "received_at": t.last_citizen_message_at.isoformat()
             if t.last_citizen_message_at else None,
             "deadline": t.answer_deadline.isoformat() if t.answer_deadline else None,
             "interim_answer_at": t.interim_answer_at.isoformat()
             if t.interim_answer_at else None} for t in threads]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table("thread", "municipality", "service", "deadline", "interim answer",
                  title=f"{len(rows)} overdue")
    for t in threads:
        table.add_row(t.root, t.municipality, t.service_code, _when(t.answer_deadline),
                      _when(t.interim_answer_at))
    Console().print(table)


@deadletter_app.command("list")
def deadletter_list(config: ConfigOption = None, as_json: JsonOption = False) -> None:
    """Parked work, oldest first, with its reason."""
    with opened_store(config) as (_settings, store):
        letters = store.dead_letters.list()
    rows = [_letter(letter) for letter in letters]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        return
    table = Table("id", "municipality", "where", "kind", "parked", "reason",
                  title=f"{len(rows)} dead letters")
    for row in rows:
        table.add_row(str(row["id"]), row["municipality"], row["source"], row["kind"],
                      _when(datetime.fromisoformat(row["parked_at"])), row["reason"])
    Console().print(table)


@deadletter_app.command("show")
def deadletter_show(dead_letter: Annotated[int, typer.Argument(help="The dead letter's id")],
                    config: ConfigOption = None) -> None:
    """One dead letter: its reason and the work it holds (without the message itself)."""
    with opened_store(config) as (_settings, store):
        letter = store.dead_letters.get(dead_letter)
        if letter is None:
            raise fail(f"no dead letter {dead_letter}")
        queue = store.inbox if letter.source == "inbox" else store.outbox
        item = queue.get(letter.item_id)
    shown = _letter(letter)
    if item is not None:
        shown["work"] = {"key": item.key, "attempts": item.attempts, "state": item.state,
                         "last_error": item.last_error, "bytes": len(item.payload),
                         "created_at": item.created_at.isoformat(),
                         "meta": {k: v for k, v in item.meta.items() if k != "citizen_id"}}
    sys.stdout.write(json.dumps(shown, indent=2, ensure_ascii=False, default=str) + "\n")


@deadletter_app.command("retry")
def deadletter_retry(
    dead_letter: Annotated[int | None, typer.Argument(help="The dead letter's id")] = None,
    every: Annotated[bool, typer.Option("--all", help="Retry every dead letter")] = False,
    config: ConfigOption = None,
) -> None:
    """Put parked work back in line (one, or ``--all``)."""
    if (dead_letter is None) == (not every):
        raise fail("give a dead letter's id or --all")
    with opened_store(config) as (_settings, store):
        if every:
            count = store.dead_letters.retry_all()
        elif store.dead_letters.retry(dead_letter or 0):
            count = 1
        else:
            raise fail(f"no dead letter {dead_letter} waiting to be retried")
    typer.echo(f"{count} put back in line")


def _letter(letter: Any) -> dict[str, Any]:
    return {"id": letter.id, "municipality": letter.municipality, "source": letter.source,
            "kind": letter.kind, "reason": letter.reason,
            "parked_at": letter.parked_at.isoformat(),
            "retried_at": letter.retried_at.isoformat() if letter.retried_at else None}
