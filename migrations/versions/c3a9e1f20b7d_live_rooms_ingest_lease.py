"""live rooms: ingest lease (node, heartbeat, dropped at)

Revision ID: c3a9e1f20b7d
Revises: c4e8a1f0b7d2
Create Date: 2026-12-05 07:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3a9e1f20b7d'
down_revision = "c4e8a1f0b7d2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('live_rooms', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ingest_node', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('ingest_seen_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('ingest_dropped_at', sa.DateTime(), nullable=True))


def downgrade():
    # Plain DROP COLUMN on both engines (SQLite >= 3.35): a batch copy of live_rooms would have to
    # drop the table, which its many referencing rows forbid with foreign keys on.
    for column in ('ingest_dropped_at', 'ingest_seen_at', 'ingest_node'):
        op.drop_column('live_rooms', column)
