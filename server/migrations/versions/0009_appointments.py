"""appointments (lịch hẹn) and walk-ins in one queue

Office: `booking_slot_min`, `booking_days_ahead`, `checkin_early_min`, `checkin_late_min`.
Service: `bookable`, `booking_per_slot`. Ticket: `appointment_id` (the booking a check-in issued it for).
Table `appointment`. Reports: the ticket fact's `channel`, rollup sums `appointments` and
`appointments_missed`.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 07:50:00
"""
from alembic import op
import sqlalchemy as sa

from counters.clock import UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('office', schema=None) as batch_op:
        for name, default in (('booking_slot_min', '15'), ('booking_days_ahead', '14'),
                              ('checkin_early_min', '15'), ('checkin_late_min', '10')):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default=default))
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bookable', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('booking_per_slot', sa.Integer(), nullable=False, server_default='1'))
    op.create_table(
        'appointment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('start', UTCDateTime(), nullable=False),
        sa.Column('end', UTCDateTime(), nullable=False),
        sa.Column('status', sa.String(), nullable=False),
        sa.Column('code', sa.String(), nullable=False),
        sa.Column('manage_code', sa.String(), nullable=False),
        sa.Column('phone', sa.String(), nullable=True),
        sa.Column('id_card_hash', sa.String(), nullable=True),
        sa.Column('lang', sa.String(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('changed_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['office_id'], ['office.id']),
        sa.ForeignKeyConstraint(['service_id'], ['service.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
        sa.UniqueConstraint('manage_code'),
    )
    op.create_index('ix_appointment_slot', 'appointment', ['service_id', 'start', 'status'])
    op.create_index('ix_appointment_office_start', 'appointment', ['office_id', 'start'])
    op.create_index('ix_appointment_id_card_hash', 'appointment', ['id_card_hash'])
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appointment_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_ticket_appointment_id', ['appointment_id'], unique=False)
    with op.batch_alter_table('ticket_fact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', sa.String(), nullable=False, server_default='kiosk'))
    with op.batch_alter_table('report_rollup', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appointments', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('appointments_missed', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('report_rollup', schema=None) as batch_op:
        batch_op.drop_column('appointments_missed')
        batch_op.drop_column('appointments')
    with op.batch_alter_table('ticket_fact', schema=None) as batch_op:
        batch_op.drop_column('channel')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_appointment_id')
        batch_op.drop_column('appointment_id')
    op.drop_index('ix_appointment_id_card_hash', table_name='appointment')
    op.drop_index('ix_appointment_office_start', table_name='appointment')
    op.drop_index('ix_appointment_slot', table_name='appointment')
    op.drop_table('appointment')
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_column('booking_per_slot')
        batch_op.drop_column('bookable')
    with op.batch_alter_table('office', schema=None) as batch_op:
        for name in ('checkin_late_min', 'checkin_early_min', 'booking_days_ahead', 'booking_slot_min'):
            batch_op.drop_column(name)
