"""users.session_version: logging out ends old session cookies

Revision ID: b6dfe93b43a0
Revises: fba761440ef5
Create Date: 2026-12-04 17:17:13.633960

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b6dfe93b43a0"
down_revision = "fba761440ef5"
branch_labels = None
depends_on = None


def upgrade():
    # Existing users start at 0, as do cookies without a version: nobody is signed out by this.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    # A plain DROP COLUMN (SQLite >= 3.35): a batch copy would drop and recreate users, which
    # SQLite refuses while other tables' rows point at it.
    op.drop_column("users", "session_version")
