"""Payments record the paying card's fingerprint (the invite checks compare it)

Revision ID: 7c3d9e2f1a60
Revises: 3a4e06dd910e
Create Date: 2026-12-06 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c3d9e2f1a60'
down_revision = '3a4e06dd910e'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN (nullable, no default): no table rebuild on SQLite. Payments made
    # before it have no fingerprint, and the invite checks then have no card to compare.
    op.add_column('payments', sa.Column('instrument_fingerprint', sa.String(length=64), nullable=True))
    op.create_index(op.f('ix_payments_instrument_fingerprint'), 'payments', ['instrument_fingerprint'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_payments_instrument_fingerprint'), table_name='payments')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('instrument_fingerprint')
