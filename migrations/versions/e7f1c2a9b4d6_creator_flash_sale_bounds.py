"""Creator flash sales: a merchant lets creators run flash sales of a product within bounds

Revision ID: e7f1c2a9b4d6
Revises: e5b2c8d41a90
Create Date: 2026-12-05 12:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e7f1c2a9b4d6"
down_revision = "e5b2c8d41a90"
branch_labels = None
depends_on = None

MONEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.add_column(
        "products",
        sa.Column("creator_flash", sa.String(8), nullable=False, server_default="none"),
    )
    op.add_column("products", sa.Column("creator_flash_min_price_minor", MONEY, nullable=True))
    op.add_column("products", sa.Column("creator_flash_max_quantity", sa.Integer(), nullable=True))
    op.add_column("products", sa.Column("creator_flash_max_seconds", sa.Integer(), nullable=True))
    # Plain ALTERs: a batch copy of products trips the foreign keys that point at it on SQLite,
    # which cannot add a CHECK to a table (the model's constraint guards new SQLite databases).
    if op.get_bind().dialect.name != "sqlite":
        op.create_check_constraint(
            op.f("ck_products_creator_flash_known"), "products", "creator_flash IN ('none', 'all')"
        )


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_products_creator_flash_known"), "products", type_="check")
    op.drop_column("products", "creator_flash_max_seconds")
    op.drop_column("products", "creator_flash_max_quantity")
    op.drop_column("products", "creator_flash_min_price_minor")
    op.drop_column("products", "creator_flash")
