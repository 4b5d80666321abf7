"""the one-stop system's settings and the few facts a visit keeps from it

Office: `dossier_code_pattern` (the shape of the province's dossier codes), `dossier_lookup_url` (the
result look-up adapter, null = off), `ask_trips` (the tablet asks how many trips the visit took).
Ticket: `id_checked`, `id_card_hash` (keyed hash of a chip ID card's number) and `birth_year`: all the
queue keeps of a scanned card. Feedback: `trips`.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 07:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

DEFAULT_PATTERN = r"^[0-9A-Z]{2,4}(\.[0-9A-Z]{2,4}){1,4}-[0-9]{6}-[0-9]{4,5}$"


def upgrade() -> None:
    with op.batch_alter_table('office', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dossier_code_pattern', sa.String(), nullable=False,
                                      server_default=DEFAULT_PATTERN))
        batch_op.add_column(sa.Column('dossier_lookup_url', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('ask_trips', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_checked', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('id_card_hash', sa.String(), nullable=True))
        batch_op.add_column(sa.Column('birth_year', sa.Integer(), nullable=True))
        batch_op.create_index('ix_ticket_id_card_hash', ['id_card_hash'], unique=False)
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trips', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_column('trips')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_id_card_hash')
        batch_op.drop_column('birth_year')
        batch_op.drop_column('id_card_hash')
        batch_op.drop_column('id_checked')
    with op.batch_alter_table('office', schema=None) as batch_op:
        batch_op.drop_column('ask_trips')
        batch_op.drop_column('dossier_lookup_url')
        batch_op.drop_column('dossier_code_pattern')
