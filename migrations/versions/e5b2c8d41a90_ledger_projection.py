"""Ledger projection: each commission's state, payout allocations, payee balances (backfilled)

Revision ID: e5b2c8d41a90
Revises: e5c0a7f19b42
Create Date: 2026-12-05 12:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "e5b2c8d41a90"
down_revision = "e5c0a7f19b42"
branch_labels = None
depends_on = None

MONEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "commission_credits",
        sa.Column("commission_id", sa.Integer(), nullable=False),
        sa.Column("payee_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("accrued_minor", MONEY, nullable=False),
        sa.Column("reversed_minor", MONEY, nullable=False),
        sa.Column("released_minor", MONEY, nullable=False),
        sa.Column("reversed_after_release_minor", MONEY, nullable=False),
        sa.Column("covered_minor", MONEY, nullable=False),
        sa.Column("unpaid_minor", MONEY, nullable=False),
        sa.Column("release_seq", sa.Integer(), nullable=True),
        sa.Column("accrued_at", sa.DateTime(), nullable=True),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.Column("reversed_at", sa.DateTime(), nullable=True),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["commission_id"], ["commissions.id"],
            name=op.f("fk_commission_credits_commission_id_commissions"),
        ),
        sa.ForeignKeyConstraint(
            ["payee_id"], ["users.id"], name=op.f("fk_commission_credits_payee_id_users")
        ),
        sa.PrimaryKeyConstraint("commission_id", name=op.f("pk_commission_credits")),
    )
    op.create_table(
        "payout_allocations",
        sa.Column("payout_id", sa.Integer(), nullable=False),
        sa.Column("commission_id", sa.Integer(), nullable=False),
        sa.Column("amount_minor", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["commission_id"], ["commissions.id"],
            name=op.f("fk_payout_allocations_commission_id_commissions"),
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["payouts.id"], name=op.f("fk_payout_allocations_payout_id_payouts")
        ),
        sa.PrimaryKeyConstraint("payout_id", "commission_id", name=op.f("pk_payout_allocations")),
    )
    op.create_table(
        "payee_balances",
        sa.Column("payee_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("pending_minor", MONEY, nullable=False),
        sa.Column("available_minor", MONEY, nullable=False),
        sa.Column("paid_minor", MONEY, nullable=False),
        sa.Column("cancelled_minor", MONEY, nullable=False),
        sa.ForeignKeyConstraint(
            ["payee_id"], ["users.id"], name=op.f("fk_payee_balances_payee_id_users")
        ),
        sa.PrimaryKeyConstraint("payee_id", "currency", name=op.f("pk_payee_balances")),
    )
    # Backfill from the ledger with the same rule the app applies on each append. Indexes
    # after the bulk insert: cheaper than keeping them up to date row by row.
    from commerce.attribution import projection

    projection.rebuild(op.get_bind())
    op.create_index(
        "ix_commission_credits_payee_id", "commission_credits", ["payee_id"], unique=False
    )
    op.create_index(
        "ix_commission_credits_unpaid",
        "commission_credits",
        ["payee_id", "release_seq"],
        unique=False,
        postgresql_where=sa.text("unpaid_minor > 0"),
        sqlite_where=sa.text("unpaid_minor > 0"),
    )
    # Charts of the last 30 days: sums per day from the index, clicks by a range per share.
    op.create_index(
        "ix_commissions_user_day",
        "commissions",
        ["user_id", "created_at"],
        postgresql_include=["role", "currency", "amount_minor"],
    )
    op.create_index("ix_share_clicks_share_at", "share_clicks", ["share_id", "at"])


def downgrade():
    op.drop_index("ix_share_clicks_share_at", table_name="share_clicks")
    op.drop_index("ix_commissions_user_day", table_name="commissions")
    op.drop_index("ix_commission_credits_unpaid", table_name="commission_credits")
    op.drop_index("ix_commission_credits_payee_id", table_name="commission_credits")
    op.drop_table("payee_balances")
    op.drop_table("payout_allocations")
    op.drop_table("commission_credits")
