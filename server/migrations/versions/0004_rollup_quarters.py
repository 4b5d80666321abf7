"""report rollups per quarter (period 'q'), filled from the existing month rows

A report over a year reads whole quarters, then months, weeks and days at the edges: about 15 rows per
key instead of 21, which keeps a province's year by clerk (1,200 keys) under the response budget.
No table changes: quarter rows are new `period` values of `report_rollup`. New events write them from
now on (counters.projections.facts); this fills them for the history already rolled up, as the sums of each
quarter's month rows (exact: a quarter is exactly its three months). One INSERT ... SELECT over the
month rows (a few seconds for a province's year); dialect-neutral (the quarter of a month is a CASE
built from the months present).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 09:40:00
"""
from datetime import date

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# The metric columns of report_rollup as revision 0003 created them.
BUCKETS = 21
METRICS = (("issued", "served", "no_show", "cancelled", "waited", "wait_sum_s", "within_target", "timed",
            "service_sum_s", "dni_done", "dni_within", "nw_waited", "nw_within", "ratings", "satisfied")
           + tuple(f"w{i}" for i in range(BUCKETS)) + tuple(f"s{i}" for i in range(BUCKETS)))
KEYS = ("office_id", "dim", "period", "start", "key")


def _quarter(month: date) -> date:
    return date(month.year, 3 * ((month.month - 1) // 3) + 1, 1)


def upgrade() -> None:
    rollup = sa.table("report_rollup", sa.column("office_id", sa.Integer()), sa.column("dim", sa.String()),
                      sa.column("period", sa.String()), sa.column("start", sa.Date()),
                      sa.column("key", sa.Integer()), *[sa.column(m, sa.Integer()) for m in METRICS])
    bind = op.get_bind()
    months = sorted(bind.execute(sa.select(rollup.c.start).where(rollup.c.period == "m").distinct()).scalars())
    if not months:
        return
    quarter = sa.case(*[(rollup.c.start == m, sa.literal(_quarter(m), sa.Date())) for m in months])
    by_quarter = (sa.select(rollup.c.office_id, rollup.c.dim, quarter.label("quarter"), rollup.c.key,
                            *[rollup.c[m] for m in METRICS])
                  .where(rollup.c.period == "m").subquery())
    source = (sa.select(by_quarter.c.office_id, by_quarter.c.dim, sa.literal("q", sa.String()), by_quarter.c.quarter,
                        by_quarter.c.key, *[sa.func.sum(by_quarter.c[m]) for m in METRICS])
              .group_by(by_quarter.c.office_id, by_quarter.c.dim, by_quarter.c.quarter, by_quarter.c.key))
    bind.execute(rollup.insert().from_select(list(KEYS + METRICS), source))


def downgrade() -> None:
    op.execute("DELETE FROM report_rollup WHERE period = 'q'")
