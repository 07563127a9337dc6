"""live rooms: ingest lease (node, heartbeat, dropped at)

Revision ID: c3a9e1f20b7d
Revises: f211082df6b6
Create Date: 2026-12-05 07:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a9e1f20b7d'
down_revision = 'f211082df6b6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('live_rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ingest_node', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('ingest_seen_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('ingest_dropped_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('live_rooms', schema=None) as batch_op:
        batch_op.drop_column('ingest_dropped_at')
        batch_op.drop_column('ingest_seen_at')
        batch_op.drop_column('ingest_node')
