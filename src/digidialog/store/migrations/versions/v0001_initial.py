"""The initial schema: inbox, outbox, dead letters, threads, links, receipts, checkpoints,
citizens and seen vendor events.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the types as they were at this revision: later changes to
# schema.py must not change what this revision creates.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def _work_queue(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False, unique=True),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("not_before", TIMESTAMP, nullable=False),
        sa.Column("leased_by", sa.String(255)),
        sa.Column("lease_until", TIMESTAMP),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index(f"ix_{name}_claim", name, ["state", "not_before"])
    op.create_index(f"ix_{name}_leased_by", name, ["leased_by"])


def upgrade() -> None:
    """Create every table of the first release."""
    _work_queue("inbox")
    _work_queue("outbox")
    op.create_table(
        "dead_letters",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("item_id", sa.BigInteger, nullable=False),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("parked_at", TIMESTAMP, nullable=False),
        sa.Column("retried_at", TIMESTAMP),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_dead_letters_open", "dead_letters", ["retried_at", "municipality"])
    op.create_table(
        "threads",
        sa.Column("root", sa.String(255), primary_key=True),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("service_her_id", sa.String(32), nullable=False),
        sa.Column("citizen_id", sa.String(32), nullable=False),
        sa.Column("vendor_thread_id", sa.String(255)),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("last_citizen_msg_id", sa.String(255)),
        sa.Column("last_citizen_message_at", TIMESTAMP),
        sa.Column("answer_deadline", TIMESTAMP),
        sa.Column("last_answer_at", TIMESTAMP),
        sa.Column("interim_answer_at", TIMESTAMP),
        sa.Column("closed_at", TIMESTAMP),
    )
    op.create_index("ix_threads_vendor", "threads", ["municipality", "vendor_thread_id"])
    op.create_index("ix_threads_deadline", "threads", ["answer_deadline"])
    op.create_table(
        "links",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("msg_id", sa.String(255), nullable=False, unique=True),
        sa.Column("vendor_id", sa.String(255)),
        sa.Column("thread_root", sa.String(255), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_links_vendor", "links", ["municipality", "vendor_id"])
    op.create_index("ix_links_thread", "links", ["thread_root", "id"])
    op.create_table(
        "awaited_receipts",
        sa.Column("msg_id", sa.String(255), primary_key=True),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("outbox_item", sa.BigInteger),
        sa.Column("citizen_id", sa.String(32)),
        sa.Column("process", sa.String(64), nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=False),
        sa.Column("status", sa.String(16)),
        sa.Column("error_codes", sa.JSON),
        sa.Column("resolved_at", TIMESTAMP),
    )
    op.create_index("ix_awaited_receipts_pending", "awaited_receipts",
                    ["resolved_at", "sent_at"])
    op.create_table(
        "checkpoints",
        sa.Column("municipality", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("value", sa.Text),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "citizens",
        sa.Column("municipality", sa.String(64), primary_key=True),
        sa.Column("citizen_id", sa.String(32), primary_key=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("changed_at", TIMESTAMP, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
    )
    op.create_table(
        "seen_events",
        sa.Column("municipality", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("seen_at", TIMESTAMP, nullable=False),
    )


def downgrade() -> None:
    """Drop everything (only ever used on an empty test database)."""
    for table in ("seen_events", "citizens", "checkpoints", "awaited_receipts", "links",
                  "threads", "dead_letters", "outbox", "inbox"):
        op.drop_table(table)
