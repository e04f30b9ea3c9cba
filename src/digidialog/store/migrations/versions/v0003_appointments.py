"""Appointments kept current from the EPJ, cancellations awaiting a decision, the roster, proxies.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add the appointment, cancellation and roster tables; existing tables are not touched."""
    op.create_table(
        "appointments",
        sa.Column("municipality", sa.String(64), primary_key=True),
        sa.Column("uid", sa.String(255), primary_key=True),
        sa.Column("citizen_id", sa.String(32), nullable=False),
        sa.Column("service_code", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("starts_at", TIMESTAMP, nullable=False),
        sa.Column("ends_at", TIMESTAMP, nullable=False),
        sa.Column("visible_until", TIMESTAMP, nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("changed_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_appointments_citizen", "appointments",
                    ["municipality", "citizen_id", "visible_until"])
    op.create_table(
        "appointment_reads",
        sa.Column("municipality", sa.String(64), primary_key=True),
        sa.Column("citizen_id", sa.String(32), primary_key=True),
        sa.Column("window_start", TIMESTAMP, nullable=False),
        sa.Column("window_end", TIMESTAMP, nullable=False),
        sa.Column("read_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "cancellations",
        sa.Column("request_id", sa.String(255), primary_key=True),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("citizen_id", sa.String(32), nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("affected", sa.JSON),
        sa.Column("decided_at", TIMESTAMP),
    )
    op.create_index("ix_cancellations_open", "cancellations", ["municipality", "decided_at"])
    op.create_table(
        "roster_services",
        sa.Column("municipality", sa.String(64), primary_key=True),
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("open_for_dialog", sa.Boolean, nullable=False),
        sa.Column("seen_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "roster_recipients",
        sa.Column("municipality", sa.String(64), primary_key=True),
        sa.Column("service_code", sa.String(64), primary_key=True),
        sa.Column("citizen_id", sa.String(32), primary_key=True),
        sa.Column("seen_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_roster_recipients_citizen", "roster_recipients",
                    ["municipality", "citizen_id"])
    op.create_table(
        "proxies",
        sa.Column("municipality", sa.String(64), primary_key=True),
        sa.Column("citizen_id", sa.String(32), primary_key=True),
        sa.Column("holder_id", sa.String(32), primary_key=True),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("valid_to", TIMESTAMP),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
    )


def downgrade() -> None:
    """Drop the tables of this revision (what they held is read again from the EPJ)."""
    for table in ("proxies", "roster_recipients", "roster_services", "cancellations",
                  "appointment_reads", "appointments"):
        op.drop_table(table)
