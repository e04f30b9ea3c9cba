"""The nightly job: its runs (claimed with a lease, resumable), what it last told the portal
about each citizen, and the digital status questions it asked.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add the nightly tables, and an index on when appointments start."""
    op.create_table(
        "nightly_runs",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("night", sa.String(10), nullable=False),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("part", sa.String(32), nullable=False),
        sa.Column("cursor", sa.Text),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("owner", sa.String(255)),
        sa.Column("lease_until", TIMESTAMP),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("finished_at", TIMESTAMP),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("municipality", "night", "generation",
                            name="uq_nightly_runs_night"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_nightly_runs_state", "nightly_runs", ["municipality", "state"])
    op.create_table(
        "nightly_citizens",
        sa.Column("municipality", sa.String(64), primary_key=True),
        sa.Column("citizen_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("services", sa.JSON, nullable=False),
        sa.Column("epj_active", sa.Boolean, nullable=False),
        sa.Column("seen_run", sa.BigInteger, nullable=False),
        sa.Column("overview", sa.JSON),
        sa.Column("overview_hash", sa.String(64)),
        sa.Column("overview_sent_at", TIMESTAMP),
        sa.Column("welcomed_at", TIMESTAMP),
        sa.Column("active_seen", sa.Boolean),
    )
    op.create_index("ix_nightly_citizens_run", "nightly_citizens",
                    ["municipality", "seen_run", "citizen_id"])
    op.create_table(
        "status_queries",
        sa.Column("msg_id", sa.String(255), primary_key=True),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("run_id", sa.BigInteger, nullable=False),
        sa.Column("citizens", sa.JSON, nullable=False),
        sa.Column("sent_at", TIMESTAMP, nullable=False),
        sa.Column("answer_code", sa.String(8)),
        sa.Column("answered_at", TIMESTAMP),
    )
    op.create_index("ix_status_queries_run", "status_queries", ["run_id", "answered_at"])
    # The nightly sweep of an exported day finds that day's appointments by their start.
    op.create_index("ix_appointments_start", "appointments", ["municipality", "starts_at"])


def downgrade() -> None:
    """Drop the tables of this revision (the next run starts afresh)."""
    op.drop_index("ix_appointments_start", table_name="appointments")
    for table in ("status_queries", "nightly_citizens", "nightly_runs"):
        op.drop_table(table)
