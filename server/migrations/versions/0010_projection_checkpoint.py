"""projection checkpoints: report facts are folded after the commit by a projector

Table `projection_checkpoint` (name, office_id, seq): the last event `seq` of an office that a projection
has folded. Until now the report facts were folded in (PostgreSQL) or right after (SQLite) the action's
transaction, so the existing facts already reflect every committed event: the checkpoint of "reports"
starts at each office's last seq. (A database that crashed between a commit and its fold under the old
release: run `counters.projections.facts.rebuild` once.)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 16:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'projection_checkpoint',
        sa.Column('name', sa.String(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['office_id'], ['office.id']),
        sa.PrimaryKeyConstraint('name', 'office_id'),
    )
    op.execute("INSERT INTO projection_checkpoint (name, office_id, seq) "
               "SELECT 'reports', office_id, last_seq FROM officeseq")


def downgrade() -> None:
    op.drop_table('projection_checkpoint')
