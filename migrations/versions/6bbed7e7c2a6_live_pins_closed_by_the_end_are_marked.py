"""live pins closed by the end of the show are marked

Revision ID: 6bbed7e7c2a6
Revises: 5d1e7a9b3c20
Create Date: 2026-11-24 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "6bbed7e7c2a6"
down_revision = "5d1e7a9b3c20"
branch_labels = None
depends_on = None

# Lightweight tables: the backfill must not depend on the models as they are today.
live_pins = sa.table(
    "live_pins",
    sa.column("room_id", sa.Integer),
    sa.column("unpinned_at", sa.DateTime),
    sa.column("closed_by_end", sa.Boolean),
)
live_rooms = sa.table("live_rooms", sa.column("id", sa.Integer), sa.column("ended_at", sa.DateTime))


def upgrade():
    # Plain ALTERs, not batch mode: on SQLite a batch with an expression default rebuilds
    # live_pins, and dropping the old table fails while flash sales refer to its rows.
    op.add_column(
        "live_pins",
        sa.Column("closed_by_end", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # Until now a pin closed by the end was told by unpinned_at == ended_at: keep that reading
    # for the rows already there (a pin whose End raced another End cannot be told apart).
    ended_at = (
        sa.select(live_rooms.c.ended_at)
        .where(live_rooms.c.id == live_pins.c.room_id)
        .scalar_subquery()
    )
    op.execute(
        live_pins.update()
        .where(live_pins.c.unpinned_at.is_not(None), live_pins.c.unpinned_at == ended_at)
        .values(closed_by_end=True)
    )


def downgrade():
    # SQLite (3.35+) drops a plain column in place; batch mode would rebuild the table.
    op.drop_column("live_pins", "closed_by_end")
