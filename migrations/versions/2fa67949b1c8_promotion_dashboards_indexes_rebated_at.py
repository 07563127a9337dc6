"""Promotion dashboards: the indexes their GROUP BY day queries read, and when a group's
leader-free rebate was paid

Revision ID: 2fa67949b1c8
Revises: b9da975f946f
Create Date: 2026-12-06 17:38:34.653098

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2fa67949b1c8'
down_revision = 'b9da975f946f'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.create_index('ix_coupons_room_claimed', ['room_id', 'claimed_at'], unique=False)
        batch_op.create_index('ix_coupons_template_claimed', ['template_id', 'claimed_at'], unique=False)

    with op.batch_alter_table('group_seats', schema=None) as batch_op:
        batch_op.create_index('ix_group_seats_campaign_state', ['campaign_id', 'state', 'paid_at'], unique=False)

    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rebated_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_groups_campaign_closed', ['campaign_id', 'closed_at'], unique=False)
        batch_op.create_index('ix_groups_campaign_opened', ['campaign_id', 'opened_at'], unique=False)

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.create_index('ix_order_lines_creator', ['creator_id', 'order_id'], unique=False)

    # Rebates paid before this column existed are dated by the group's close (the best known).
    op.execute(
        "UPDATE groups SET rebated_at = closed_at WHERE rebate_state = 'paid' AND rebated_at IS NULL"
    )


def downgrade():
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index('ix_order_lines_creator')

    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_index('ix_groups_campaign_opened')
        batch_op.drop_index('ix_groups_campaign_closed')
        batch_op.drop_column('rebated_at')

    with op.batch_alter_table('group_seats', schema=None) as batch_op:
        batch_op.drop_index('ix_group_seats_campaign_state')

    with op.batch_alter_table('coupons', schema=None) as batch_op:
        batch_op.drop_index('ix_coupons_template_claimed')
        batch_op.drop_index('ix_coupons_room_claimed')
