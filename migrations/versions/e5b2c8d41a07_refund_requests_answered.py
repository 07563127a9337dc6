"""refund requests are answered: state (requested, approved, declined), dates, decline reason

Revision ID: e5b2c8d41a07
Revises: d3a7c51e9b84
Create Date: 2026-12-05 12:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e5b2c8d41a07"
down_revision = "d3a7c51e9b84"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders") as batch:
        batch.add_column(
            sa.Column("refund_request_state", sa.String(12), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("refund_requested_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("refund_decided_at", sa.DateTime(), nullable=True))
        batch.add_column(
            sa.Column("refund_decline_reason", sa.Text(), nullable=False, server_default="")
        )
    # Requests still open keep waiting for the seller's answer.
    op.execute("UPDATE orders SET refund_request_state = 'requested' WHERE refund_requested")


def downgrade():
    # Plain DROP COLUMNs: a batch copy of orders fails on SQLite while rows reference it.
    for column in (
        "refund_decline_reason",
        "refund_decided_at",
        "refund_requested_at",
        "refund_request_state",
    ):
        op.drop_column("orders", column)
