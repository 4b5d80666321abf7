"""print job: the base URL the ticket's QR code points to (the address the kiosk used)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('printjob', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_url', sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('printjob', schema=None) as batch_op:
        batch_op.drop_column('base_url')
