"""live media origins: the node that holds a room's live media

Revision ID: d3a9e5b1c7f2
Revises: c3a9e1f20b7d
Create Date: 2026-12-05 08:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3a9e5b1c7f2'
down_revision = "c3a9e1f20b7d"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('live_media_origins',
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('base_url', sa.String(length=255), nullable=False),
    sa.Column('claimed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['live_rooms.id'], name=op.f('fk_live_media_origins_room_id_live_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('room_id', name=op.f('pk_live_media_origins'))
    )


def downgrade():
    op.drop_table('live_media_origins')
