"""money columns are 64-bit on PostgreSQL

Revision ID: 0ebc27a3ed18
Revises: b6dfe93b43a0
Create Date: 2026-12-04 17:52:39.271004

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0ebc27a3ed18'
down_revision = 'b6dfe93b43a0'
branch_labels = None
depends_on = None

# Money in minor units outgrew PostgreSQL's INTEGER (¥21,474,836.47): 30 units at ¥1,000,000
# failed to insert. SQLite's INTEGER is 64 bits already: nothing to do there (no table rebuild).
MONEY_COLUMNS = {
    "commissions": ("base_minor", "amount_minor"),
    "flash_sales": ("price_minor",),
    "ledger_entries": ("amount_minor",),
    "order_lines": ("list_price_minor", "unit_price_minor", "amount_minor", "refunded_minor"),
    "orders": ("subtotal_minor", "discount_minor", "shipping_minor", "total_minor", "refunded_minor"),
    "payments": ("amount_minor",),
    "payouts": ("amount_minor",),
    "products": ("price_minor",),
    "refunds": ("amount_minor",),
    "sandbox_objects": ("amount_minor",),
}


def _retype(old, new):
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in MONEY_COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, existing_type=old, type_=new)


def upgrade():
    _retype(sa.Integer(), sa.BigInteger())


def downgrade():
    _retype(sa.BigInteger(), sa.Integer())
