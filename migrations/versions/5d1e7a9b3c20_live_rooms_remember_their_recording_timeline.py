"""live rooms remember their recording's timeline

Revision ID: 5d1e7a9b3c20
Revises: 4c23d6c27380
Create Date: 2026-11-23 18:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "5d1e7a9b3c20"
down_revision = "4c23d6c27380"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("live_rooms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("media_timeline", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("live_rooms", schema=None) as batch_op:
        batch_op.drop_column("media_timeline")
