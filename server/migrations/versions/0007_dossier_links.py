"""dossier links and the trips figures of reports

`dossier_link`: the dossiers of the province's one-stop system handled in a visit (API.md "The one-stop
system"); `ticket.dossiers` keeps their codes on the ticket for its views. Report facts gain the rating's
`trips` answer and the rollups three sums (`trips_rated`, `trips_sum`, `one_trip`) for `avg_trips` and
`one_trip_pct`: zero for the history, which had no trips question. A partial index on the event log holds
only the dossier events, which reports by procedure read.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 08:00:00
"""
from alembic import op
import sqlalchemy as sa

from counters.clock import UTCDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

TRIP_SUMS = ("trips_rated", "trips_sum", "one_trip")
DOSSIER_EVENTS_SQL = "type IN ('dossier.linked', 'dossier.unlinked')"  # only these events are in the index


def upgrade() -> None:
    op.create_table(
        'dossier_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(), nullable=False),
        sa.Column('procedure', sa.String(), nullable=True),
        sa.Column('counter_id', sa.Integer(), nullable=True),
        sa.Column('clerk_id', sa.Integer(), nullable=True),
        sa.Column('linked_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['office_id'], ['office.id']),
        sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ticket_id', 'code', name='uq_dossier_link_ticket_code'),
    )
    op.create_index('ix_dossier_link_office_code', 'dossier_link', ['office_id', 'code'], unique=False)
    op.create_index('ix_dossier_link_ticket_id', 'dossier_link', ['ticket_id'], unique=False)
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dossiers', sa.JSON(), nullable=True))
    op.create_index('ix_event_dossier', 'event', ['office_id', 'at'], unique=False,
                    sqlite_where=sa.text(DOSSIER_EVENTS_SQL), postgresql_where=sa.text(DOSSIER_EVENTS_SQL))
    op.add_column('ticket_fact', sa.Column('trips', sa.Integer(), nullable=True))
    for name in TRIP_SUMS:  # plain ADD COLUMN: report_rollup is a WITHOUT ROWID table on SQLite
        op.add_column('report_rollup', sa.Column(name, sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    for name in reversed(TRIP_SUMS):
        op.drop_column('report_rollup', name)
    op.drop_column('ticket_fact', 'trips')
    op.drop_index('ix_event_dossier', table_name='event')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('dossiers')
    op.drop_index('ix_dossier_link_ticket_id', table_name='dossier_link')
    op.drop_index('ix_dossier_link_office_code', table_name='dossier_link')
    op.drop_table('dossier_link')
