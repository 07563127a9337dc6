"""Product reviews (stars, text, photos, a seller's reply), ratings on products, "review" as a
report target; watch time per video and the viewings that add it; visible comments per video

Revision ID: b4e8d2f61c37
Revises: a1f3c5e7b9d2
Create Date: 2026-12-05 19:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b4e8d2f61c37"
down_revision = "a1f3c5e7b9d2"
branch_labels = None
depends_on = None

OLD_TARGETS = "target_type IN ('video', 'comment', 'user', 'room')"
NEW_TARGETS = "target_type IN ('video', 'comment', 'user', 'room', 'review')"


def _sqlite_rewrite_check(old: str, new: str) -> None:
    """SQLite keeps a CHECK as text in its schema and cannot ALTER it; a batch copy of reports
    would trip the audit log's foreign keys that point at it. Widening (or narrowing back) the
    list is the schema edit SQLite documents for constraints that do not change stored data."""
    bind = op.get_bind()
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ?",
        (old, new, "reports"),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def _set_targets(old: str, new: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rewrite_check(old, new)
        return
    op.drop_constraint(op.f("ck_reports_target_known"), "reports", type_="check")
    op.create_check_constraint(op.f("ck_reports_target_known"), "reports", new)


def upgrade():
    op.add_column(
        "products", sa.Column("review_count", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "products", sa.Column("review_star_sum", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "videos", sa.Column("watch_ms", sa.BigInteger(), nullable=False, server_default="0")
    )
    op.add_column(
        "videos", sa.Column("comment_count", sa.Integer(), nullable=False, server_default="0")
    )
    # Comments visible to others so far; scores pick them up with the video's next engagement.
    op.execute(
        "UPDATE videos SET comment_count = (SELECT count(*) FROM comments"
        " WHERE comments.video_id = videos.id AND comments.state = 'visible')"
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("edited_at", sa.DateTime(), nullable=True),
        sa.Column("reply_text", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(), nullable=True),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("stars BETWEEN 1 AND 5", name=op.f("ck_reviews_stars_range")),
        sa.CheckConstraint(
            "state IN ('visible', 'hidden', 'deleted')", name=op.f("ck_reviews_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"], ["order_lines.id"], name=op.f("fk_reviews_order_line_id_order_lines")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_reviews_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_reviews_product_id_products")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["users.id"], name=op.f("fk_reviews_merchant_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_reviews_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["removed_by_id"], ["users.id"], name=op.f("fk_reviews_removed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("order_line_id", name=op.f("uq_reviews_order_line_id")),
    )
    op.create_index(
        "ix_reviews_product_recent", "reviews", ["product_id", "state", "created_at", "id"]
    )
    op.create_index("ix_reviews_author_recent", "reviews", ["author_id", "created_at"])
    op.create_index(op.f("ix_reviews_order_id"), "reviews", ["order_id"])
    op.create_table(
        "review_photos",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"], ["reviews.id"], name=op.f("fk_review_photos_review_id_reviews")
        ),
        sa.ForeignKeyConstraint(
            ["object_id"],
            ["stored_objects.id"],
            name=op.f("fk_review_photos_object_id_stored_objects"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_photos")),
    )
    op.create_index(op.f("ix_review_photos_review_id"), "review_photos", ["review_id"])
    op.create_table(
        "video_watches",
        sa.Column("video_id", sa.Integer(), nullable=False),
        sa.Column("view_key", sa.String(32), nullable=False),
        sa.Column("viewer_key", sa.String(64), nullable=False),
        sa.Column("credited_ms", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["video_id"],
            ["videos.id"],
            name=op.f("fk_video_watches_video_id_videos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("video_id", "view_key", name=op.f("pk_video_watches")),
    )
    op.create_index("ix_video_watches_viewer_recent", "video_watches", ["viewer_key", "started_at"])
    op.create_index("ix_video_watches_started", "video_watches", ["started_at"])
    _set_targets(OLD_TARGETS, NEW_TARGETS)


def downgrade():
    op.execute("DELETE FROM moderation_actions WHERE target_type = 'review'")
    op.execute("DELETE FROM reports WHERE target_type = 'review'")
    _set_targets(NEW_TARGETS, OLD_TARGETS)
    op.drop_index("ix_video_watches_started", table_name="video_watches")
    op.drop_index("ix_video_watches_viewer_recent", table_name="video_watches")
    op.drop_table("video_watches")
    op.drop_index(op.f("ix_review_photos_review_id"), table_name="review_photos")
    op.drop_table("review_photos")
    op.drop_index(op.f("ix_reviews_order_id"), table_name="reviews")
    op.drop_index("ix_reviews_author_recent", table_name="reviews")
    op.drop_index("ix_reviews_product_recent", table_name="reviews")
    op.drop_table("reviews")
    op.drop_column("videos", "comment_count")
    op.drop_column("videos", "watch_ms")
    op.drop_column("products", "review_star_sum")
    op.drop_column("products", "review_count")
