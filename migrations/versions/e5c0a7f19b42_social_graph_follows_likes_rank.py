"""Social graph: follows, video likes and favourites, engagement counters and the For-you score

Revision ID: e5c0a7f19b42
Revises: 9bc1a8cbe3a7
Create Date: 2026-12-05 12:30:00.000000

"""

import math
from datetime import datetime

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "e5c0a7f19b42"
down_revision = "9bc1a8cbe3a7"
branch_labels = None
depends_on = None

# A frozen copy of commerce/videos/rules.py as it was when this ran: the backfill must not
# change meaning if the rule is tuned later (the app re-scores a video at its next engagement).
_EPOCH = datetime(2024, 1, 1)
_DECAY = 24 * 3600.0


def _score(views, published_at):
    return math.log1p(max(0, views)) + (published_at - _EPOCH).total_seconds() / _DECAY


def upgrade():
    op.create_table(
        "follows",
        sa.Column("follower_id", sa.Integer(), nullable=False),
        sa.Column("followee_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("follower_id <> followee_id", name=op.f("ck_follows_not_self")),
        sa.ForeignKeyConstraint(
            ["followee_id"], ["users.id"], name=op.f("fk_follows_followee_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["follower_id"], ["users.id"], name=op.f("fk_follows_follower_id_users")
        ),
        sa.PrimaryKeyConstraint("follower_id", "followee_id", name=op.f("pk_follows")),
    )
    op.create_index("ix_follows_followee", "follows", ["followee_id", "created_at"])
    op.create_index("ix_follows_follower_recent", "follows", ["follower_id", "created_at"])
    for table in ("video_likes", "video_favourites"):
        op.create_table(
            table,
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("video_id", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(
                ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users")
            ),
            sa.ForeignKeyConstraint(
                ["video_id"],
                ["videos.id"],
                name=op.f(f"fk_{table}_video_id_videos"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("user_id", "video_id", name=op.f(f"pk_{table}")),
        )
        op.create_index(op.f(f"ix_{table}_video_id"), table, ["video_id"])
        op.create_index(f"ix_{table}_user_recent", table, ["user_id", "created_at"])
    with op.batch_alter_table("videos") as batch:
        batch.add_column(sa.Column("like_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("favourite_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("purchase_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("rank_score", sa.Float(), nullable=True))
        batch.create_index("ix_videos_rank", ["rank_score", "id"])
        batch.create_index("ix_videos_creator_published", ["creator_id", "published_at", "id"])
    bind = op.get_bind()
    videos = sa.table(
        "videos",
        sa.column("id", sa.Integer),
        sa.column("view_count", sa.Integer),
        sa.column("published_at", sa.DateTime),
        sa.column("rank_score", sa.Float),
    )
    rows = bind.execute(
        sa.select(videos.c.id, videos.c.view_count, videos.c.published_at).where(
            videos.c.published_at.is_not(None)
        )
    ).all()
    for ident, views, published_at in rows:
        bind.execute(
            videos.update()
            .where(videos.c.id == ident)
            .values(rank_score=_score(views or 0, published_at))
        )


def downgrade():
    with op.batch_alter_table("videos") as batch:
        batch.drop_index("ix_videos_creator_published")
        batch.drop_index("ix_videos_rank")
        batch.drop_column("rank_score")
        batch.drop_column("purchase_count")
        batch.drop_column("favourite_count")
        batch.drop_column("like_count")
    for table in ("video_favourites", "video_likes"):
        op.drop_index(f"ix_{table}_user_recent", table_name=table)
        op.drop_index(op.f(f"ix_{table}_video_id"), table_name=table)
        op.drop_table(table)
    op.drop_index("ix_follows_follower_recent", table_name="follows")
    op.drop_index("ix_follows_followee", table_name="follows")
    op.drop_table("follows")
