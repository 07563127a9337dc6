"""Indexes for data growth: newest orders and commissions per person, shares' orders

Revision ID: d3a7c51e9b84
Revises: d3a9e5b1c7f2
Create Date: 2026-12-05 08:45:00.000000

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "d3a7c51e9b84"
down_revision = "d3a9e5b1c7f2"
branch_labels = None
depends_on = None


def upgrade():
    # Each replaces a scan of all of a heavy seller's orders or a payee's commissions (sorted
    # to show the newest page), or of every commission and order line (a share's counts), by an
    # index range (bench/data_growth_bench.py, docs/scale.md "Data growth").
    op.create_index("ix_orders_merchant_recent", "orders", ["merchant_id", "created_at", "id"])
    op.create_index("ix_orders_buyer_recent", "orders", ["buyer_id", "created_at", "id"])
    op.create_index("ix_commissions_user_recent", "commissions", ["user_id", "created_at", "id"])
    op.create_index("ix_commissions_share_id", "commissions", ["share_id"])
    op.create_index("ix_order_lines_click_id", "order_lines", ["click_id"])


def downgrade():
    op.drop_index("ix_order_lines_click_id", table_name="order_lines")
    op.drop_index("ix_commissions_share_id", table_name="commissions")
    op.drop_index("ix_commissions_user_recent", table_name="commissions")
    op.drop_index("ix_orders_buyer_recent", table_name="orders")
    op.drop_index("ix_orders_merchant_recent", table_name="orders")
