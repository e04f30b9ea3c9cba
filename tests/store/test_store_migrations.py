"""Migrations: shipped in the package, run on open, never losing data, safe to race."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import column, func, inspect, select, table

from digidialog.store import Store
from digidialog.store import migrate as migrations
from digidialog.store.database import create_store_engine
from digidialog.store.schema import VERSION_TABLE, metadata
from tests.store.conftest import T0, ManualClock
from tests.store.workers import in_processes, open_store

HEAD = "0004"
"""The newest revision: a test names it, so that adding one is a deliberate change here."""

FIRST_TABLES = ["awaited_receipts", "checkpoints", "citizens", "dead_letters", "inbox",
                "links", "outbox", "seen_events", "threads"]


def write_everything(store: Store) -> None:
    """Rows in every table of revision 0001, through the store's own API."""
    with store.transaction() as conn:
        for number in range(3):
            store.inbox.add(conn, municipality="A", kind="dialog", key=f"in-{number}",
                            payload=bytes([0, 255, number]), meta={"n": number, "å": "ø"})
            store.outbox.add(conn, municipality="A", kind="apprec", key=f"out-{number}",
                             payload=b"<AppRec/>")
        store.threads.open(conn, root="r1", municipality="A", service_code="HSP",
                           service_her_id="1000002", citizen_id="cit-1", opened_at=T0)
        store.threads.note_citizen_message(conn, "r1", "in-0", T0, T0 + timedelta(days=1))
        store.links.add(conn, municipality="A", msg_id="in-0", vendor_id="v0",
                        thread_root="r1", direction="in")
        store.receipts.expect(conn, msg_id="out-0", municipality="A", outbox_item=1,
                              citizen_id="cit-1", process="APPREC", sent_at=T0)
        store.checkpoints.put(conn, "A", "feed", "cursor-41")
        store.citizens.set_active(conn, "A", "cit-2", False, T0, "apprec:E35")
        store.events.first_time(conn, "A", "ev-1")
    [item] = store.outbox.claim("w1", limit=1)
    store.outbox.park(item.id, "w1", reason="AppRec E10")


def snapshot(store: Store) -> dict[str, Any]:
    """Everything written above, as read back through the API and by raw row counts."""
    with store.engine.connect() as connection:
        counts = {name: connection.execute(select(func.count()).select_from(
            metadata.tables[name])).scalar_one() for name in FIRST_TABLES}
    return {
        "counts": counts,
        "inbox": [store.inbox.get_by_key(f"in-{n}") for n in range(3)],
        "outbox": [store.outbox.get_by_key(f"out-{n}") for n in range(3)],
        "thread": store.threads.get("r1"),
        "link": store.links.by_msg_id("in-0"),
        "receipts": store.receipts.pending(),
        "checkpoints": store.checkpoints.all(),
        "inactive": store.citizens.is_inactive("A", "cit-2"),
        "dead_letters": store.dead_letters.list(),
    }


def test_upgrade_from_the_first_revision_keeps_every_row(store_url: str) -> None:
    """A database made by revision 0001, full of rows, upgrades to head with all of them."""
    engine = create_store_engine(store_url)
    migrations.upgrade(engine, "0001")
    assert migrations.current_revision(engine) == "0001"
    assert "queue_messages" not in inspect(engine).get_table_names()
    old = Store(engine, store_url, clock=ManualClock())
    write_everything(old)
    before = snapshot(old)
    assert all(before["counts"][name] > 0 for name in FIRST_TABLES)

    old.close()
    with Store.open(store_url, clock=ManualClock()) as upgraded:
        assert upgraded.revision() == migrations.head_revision() == HEAD
        assert snapshot(upgraded) == before
        assert "queue_messages" in inspect(upgraded.engine).get_table_names()


def test_migrated_schema_is_what_schema_py_declares(store_url: str) -> None:
    """Alembic finds no difference between the migrated database and the MetaData."""
    with Store.open(store_url) as store, store.engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}),
            metadata,
        )
    assert differences == []


def test_opening_again_changes_nothing(store_url: str) -> None:
    """A second open finds the schema current; migrate=False never touches the schema."""
    with Store.open(store_url) as store, store.transaction() as conn:
        store.inbox.add(conn, municipality="A", kind="k", key="a", payload=b"x")
    with Store.open(store_url) as again:
        assert again.inbox.get_by_key("a") is not None
        assert again.revision() == HEAD


def test_unmigrated_open_leaves_an_empty_database_empty(store_url: str) -> None:
    """migrate=False opens without creating anything."""
    with Store.open(store_url, migrate=False) as store:
        assert store.revision() is None
        assert inspect(store.engine).get_table_names() == []


def test_daemons_starting_together_migrate_once(store_url: str) -> None:
    """Three processes open one fresh database at the same moment: all succeed at head."""
    revisions = in_processes(open_store, [(store_url,)] * 3)
    assert revisions == [HEAD] * 3
    engine = create_store_engine(store_url)
    with engine.connect() as connection:
        versions = connection.execute(
            select(column("version_num")).select_from(table(VERSION_TABLE))
        ).all()
    engine.dispose()
    assert [tuple(row) for row in versions] == [(HEAD,)]


def test_an_in_memory_store_works_for_one_thread() -> None:
    """``sqlite://`` (no file) migrates and works, for tools and quick tests."""
    with Store.open("sqlite://") as store:
        with store.transaction() as conn:
            store.outbox.add(conn, municipality="A", kind="k", key="a", payload=b"x")
        assert [item.key for item in store.outbox.claim("w1")] == ["a"]
        assert store.revision() == HEAD
