"""The store's tables as they are at the newest migration: one MetaData for everything.

The migrations in :mod:`digidialog.store.migrations` build this schema step by
step; a test compares a migrated database with this module, so the two cannot
drift apart. Queries import their tables from here.

Every timestamp column is :class:`UtcDateTime`: timezone-aware UTC going in and
coming out, whatever the database keeps (SQLite has no time zones, so it keeps
UTC wall-clock text of one fixed width, which sorts and compares as time does).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

VERSION_TABLE = "digidialog_version"
"""Alembic's bookkeeping table, named so that it never meets another application's."""


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is timezone-aware UTC in Python, whatever the database stores.

    A naive datetime is refused: its meaning would depend on the machine's clock zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Aware datetime in, UTC out (without tzinfo for SQLite, which would drop it anyway)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("the store takes timezone-aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Whatever came back, as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only
metadata = MetaData()


def _work_queue(name: str) -> Table:
    # inbox and outbox share their shape; a leased item stays "pending" with a lease set.
    return Table(
        name, metadata,
        Column("id", ID, primary_key=True, autoincrement=True),
        Column("municipality", String(64), nullable=False),
        Column("kind", String(64), nullable=False),
        Column("key", String(255), nullable=False, unique=True),
        Column("payload", LargeBinary, nullable=False),
        Column("meta", JSON, nullable=False),
        Column("state", String(16), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("not_before", UtcDateTime, nullable=False),
        Column("leased_by", String(255)),
        Column("lease_until", UtcDateTime),
        Column("last_error", Text),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        Index(f"ix_{name}_claim", "state", "not_before"),
        Index(f"ix_{name}_leased_by", "leased_by"),
        sqlite_autoincrement=True,
    )


inbox = _work_queue("inbox")
outbox = _work_queue("outbox")
WORK_TABLES: dict[str, Table] = {"inbox": inbox, "outbox": outbox}

dead_letters = Table(
    "dead_letters", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("source", String(16), nullable=False),
    Column("item_id", BigInteger, nullable=False),
    Column("municipality", String(64), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("parked_at", UtcDateTime, nullable=False),
    Column("retried_at", UtcDateTime),
    Index("ix_dead_letters_open", "retried_at", "municipality"),
    sqlite_autoincrement=True,
)

threads = Table(
    "threads", metadata,
    Column("root", String(255), primary_key=True),
    Column("municipality", String(64), nullable=False),
    Column("service_code", String(64), nullable=False),
    Column("service_her_id", String(32), nullable=False),
    Column("citizen_id", String(32), nullable=False),
    Column("vendor_thread_id", String(255)),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("last_citizen_msg_id", String(255)),
    Column("last_citizen_message_at", UtcDateTime),
    Column("answer_deadline", UtcDateTime),
    Column("last_answer_at", UtcDateTime),
    Column("interim_answer_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Index("ix_threads_vendor", "municipality", "vendor_thread_id"),
    Index("ix_threads_deadline", "answer_deadline"),
)

links = Table(
    "links", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(64), nullable=False),
    Column("msg_id", String(255), nullable=False, unique=True),
    Column("vendor_id", String(255)),
    Column("thread_root", String(255), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_links_vendor", "municipality", "vendor_id"),
    Index("ix_links_thread", "thread_root", "id"),
    sqlite_autoincrement=True,
)

awaited_receipts = Table(
    "awaited_receipts", metadata,
    Column("msg_id", String(255), primary_key=True),
    Column("municipality", String(64), nullable=False),
    Column("outbox_item", BigInteger),
    Column("citizen_id", String(32)),
    Column("process", String(64), nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("status", String(16)),
    Column("error_codes", JSON),
    Column("resolved_at", UtcDateTime),
    Index("ix_awaited_receipts_pending", "resolved_at", "sent_at"),
)

checkpoints = Table(
    "checkpoints", metadata,
    Column("municipality", String(64), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("value", Text),
    Column("updated_at", UtcDateTime, nullable=False),
)

citizens = Table(
    "citizens", metadata,
    Column("municipality", String(64), primary_key=True),
    Column("citizen_id", String(32), primary_key=True),
    Column("active", Boolean, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("source", String(64), nullable=False),
)

seen_events = Table(
    "seen_events", metadata,
    Column("municipality", String(64), primary_key=True),
    Column("event_id", String(255), primary_key=True),
    Column("seen_at", UtcDateTime, nullable=False),
)

# Revision 0002: the embedded transport's queues.
queue_messages = Table(
    "queue_messages", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("queue", String(255), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("enqueued_at", UtcDateTime, nullable=False),
    Column("leased_by", String(255)),
    Column("lease_until", UtcDateTime),
    Column("delivery_count", Integer, nullable=False),
    Index("ix_queue_messages_queue", "queue", "id"),
    sqlite_autoincrement=True,
)


# Revision 0003: appointments, cancellations and who receives which service.
appointments = Table(
    "appointments", metadata,
    Column("municipality", String(64), primary_key=True),
    Column("uid", String(255), primary_key=True),
    Column("citizen_id", String(32), nullable=False),
    Column("service_code", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("visible_until", UtcDateTime, nullable=False),
    Column("body", JSON, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Index("ix_appointments_citizen", "municipality", "citizen_id", "visible_until"),
    Index("ix_appointments_start", "municipality", "starts_at"),  # revision 0004: the sweep
)

appointment_reads = Table(
    "appointment_reads", metadata,
    Column("municipality", String(64), primary_key=True),
    Column("citizen_id", String(32), primary_key=True),
    Column("window_start", UtcDateTime, nullable=False),
    Column("window_end", UtcDateTime, nullable=False),
    Column("read_at", UtcDateTime, nullable=False),
)

cancellations = Table(
    "cancellations", metadata,
    Column("request_id", String(255), primary_key=True),
    Column("municipality", String(64), nullable=False),
    Column("citizen_id", String(32), nullable=False),
    Column("request", JSON, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("outcome", String(16)),
    Column("affected", JSON),
    Column("decided_at", UtcDateTime),
    Index("ix_cancellations_open", "municipality", "decided_at"),
)

roster_services = Table(
    "roster_services", metadata,
    Column("municipality", String(64), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("open_for_dialog", Boolean, nullable=False),
    Column("seen_at", UtcDateTime, nullable=False),
)

roster_recipients = Table(
    "roster_recipients", metadata,
    Column("municipality", String(64), primary_key=True),
    Column("service_code", String(64), primary_key=True),
    Column("citizen_id", String(32), primary_key=True),
    Column("seen_at", UtcDateTime, nullable=False),
    Index("ix_roster_recipients_citizen", "municipality", "citizen_id"),
)
proxies = Table(
    "proxies", metadata,
    Column("municipality", String(64), primary_key=True),
    Column("citizen_id", String(32), primary_key=True),
    Column("holder_id", String(32), primary_key=True),
    Column("body", JSON, nullable=False),
    Column("valid_to", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
)


# Revision 0004: the nightly job's runs, what it last told the portal, its status questions.
nightly_runs = Table(
    "nightly_runs", metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("municipality", String(64), nullable=False),
    Column("night", String(10), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("part", String(32), nullable=False),
    Column("cursor", Text),
    Column("counts", JSON, nullable=False),
    Column("owner", String(255)),
    Column("lease_until", UtcDateTime),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime),
    Column("error", Text),
    UniqueConstraint("municipality", "night", "generation", name="uq_nightly_runs_night"),
    Index("ix_nightly_runs_state", "municipality", "state"),
    sqlite_autoincrement=True,
)

nightly_citizens = Table(
    "nightly_citizens", metadata,
    Column("municipality", String(64), primary_key=True),
    Column("citizen_id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("services", JSON, nullable=False),
    Column("epj_active", Boolean, nullable=False),
    Column("seen_run", BigInteger, nullable=False),
    Column("overview", JSON),
    Column("overview_hash", String(64)),
    Column("overview_sent_at", UtcDateTime),
    Column("welcomed_at", UtcDateTime),
    Column("active_seen", Boolean),
    Index("ix_nightly_citizens_run", "municipality", "seen_run", "citizen_id"),
)

status_queries = Table(
    "status_queries", metadata,
    Column("msg_id", String(255), primary_key=True),
    Column("municipality", String(64), nullable=False),
    Column("run_id", BigInteger, nullable=False),
    Column("citizens", JSON, nullable=False),
    Column("sent_at", UtcDateTime, nullable=False),
    Column("answer_code", String(8)),
    Column("answered_at", UtcDateTime),
    Index("ix_status_queries_run", "run_id", "answered_at"),
)


def row_dict(row: Any) -> dict[str, Any]:
    """A result row as a plain dict (column name -> value)."""
    return dict(row._mapping)
