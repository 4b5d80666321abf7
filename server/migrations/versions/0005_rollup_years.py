"""report rollups per calendar year (period 'y'), filled from the existing month rows

A year "to yesterday" reads the days, week and month at its start, then this year's row minus today's:
about 5 rows per key, and a calendar year one. No table changes: year rows are new `period` values of
`report_rollup`. New events write them from now on (counters.projections.facts); this fills them for the history
already rolled up, as the sums of each year's month rows (exact: a year is exactly its months). One
INSERT ... SELECT over the month rows (seconds for a province's year); dialect-neutral (the year of a
month is a CASE built from the months present).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:50:00
"""
from datetime import date

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# The metric columns of report_rollup as revision 0003 created them.
BUCKETS = 21
METRICS = (("issued", "served", "no_show", "cancelled", "waited", "wait_sum_s", "within_target", "timed",
            "service_sum_s", "dni_done", "dni_within", "nw_waited", "nw_within", "ratings", "satisfied")
           + tuple(f"w{i}" for i in range(BUCKETS)) + tuple(f"s{i}" for i in range(BUCKETS)))
KEYS = ("office_id", "dim", "period", "start", "key")


def upgrade() -> None:
    rollup = sa.table("report_rollup", sa.column("office_id", sa.Integer()), sa.column("dim", sa.String()),
                      sa.column("period", sa.String()), sa.column("start", sa.Date()),
                      sa.column("key", sa.Integer()), *[sa.column(m, sa.Integer()) for m in METRICS])
    bind = op.get_bind()
    months = sorted(bind.execute(sa.select(rollup.c.start).where(rollup.c.period == "m").distinct()).scalars())
    if not months:
        return
    year = sa.case(*[(rollup.c.start == m, sa.literal(date(m.year, 1, 1), sa.Date())) for m in months])
    by_year = (sa.select(rollup.c.office_id, rollup.c.dim, year.label("year"), rollup.c.key,
                         *[rollup.c[m] for m in METRICS])
               .where(rollup.c.period == "m").subquery())
    source = (sa.select(by_year.c.office_id, by_year.c.dim, sa.literal("y", sa.String()), by_year.c.year,
                        by_year.c.key, *[sa.func.sum(by_year.c[m]) for m in METRICS])
              .group_by(by_year.c.office_id, by_year.c.dim, by_year.c.year, by_year.c.key))
    bind.execute(rollup.insert().from_select(list(KEYS + METRICS), source))


def downgrade() -> None:
    op.execute("DELETE FROM report_rollup WHERE period = 'y'")
