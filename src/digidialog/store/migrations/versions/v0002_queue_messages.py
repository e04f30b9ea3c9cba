"""The embedded transport's queues: one row per message waiting on a named queue.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add ``queue_messages``; existing tables are not touched."""
    op.create_table(
        "queue_messages",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("queue", sa.String(255), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("enqueued_at", TIMESTAMP, nullable=False),
        sa.Column("leased_by", sa.String(255)),
        sa.Column("lease_until", TIMESTAMP),
        sa.Column("delivery_count", sa.Integer, nullable=False),
        # AUTOINCREMENT: ids of accepted (deleted) messages are never handed out again.
        sqlite_autoincrement=True,
    )
    op.create_index("ix_queue_messages_queue", "queue_messages", ["queue", "id"])


def downgrade() -> None:
    """Drop ``queue_messages`` (messages still queued in it are lost)."""
    op.drop_table("queue_messages")
