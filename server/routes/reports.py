"""Reports for heads: JSON, CSV (UTF-8 with BOM, for Excel) or XLSX; a parent office aggregates its branches."""
from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlmodel import Session, col
from starlette.responses import Response

from counters.clock import office_day
from counters.projections import dossier_reports
from counters.projections.reports import GROUP_BY, check_query, office_tree, report

from ..api import HEADS, Call, EndpointGroup
from ..auth import require_office
from ..errors import ApiError
from ..models import User
from ..report_files import COLUMN_STYLES, table, to_csv, to_xlsx

endpoints = EndpointGroup("reports")


class ReportOut(BaseModel):
    """`format=json`; csv and xlsx return the same rows as files."""

    model_config = ConfigDict(extra="allow")
    items: list[dict[str, Any]]
    total: int


FORMATS = ("json", "csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _date(call: Call, name: str) -> date | None:
    raw = call.query(name)
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError(422, "invalid_value", f"{name} is a date YYYY-MM-DD", field=name) from None


def _lang(call: Call) -> str:
    lang = call.query("lang") or call.request.headers.get("accept-language", "vi")[:2].lower()
    return "en" if lang == "en" else "vi"


ALL_GROUP_BY = GROUP_BY + dossier_reports.GROUP_BY


@endpoints("GET", "/api/v1/offices/{office_id:int}/reports", summary="Report rows per day, hour, service, counter "
           "or clerk over office-local dates (inclusive); a parent office includes its branches", allow=HEADS,
           query={"from": "YYYY-MM-DD (default today)", "to": "YYYY-MM-DD (default from)",
                  "group_by": "|".join(ALL_GROUP_BY) + " (procedure: visits that carried a "
                  "dossier of that procedure; ticket: one row per visit with its dossier codes, at most 92 days)",
                  "format": "|".join(FORMATS), "lang": "vi|en",
                  "columns": "json (field names, seconds; the default) | people (headers in the language, "
                             "minutes) for csv and xlsx"}, response=ReportOut)
async def get_report(call: Call) -> Any:
    start_arg, end_arg = _date(call, "from"), _date(call, "to")
    group_by = call.query("group_by") or "day"
    fmt = call.query("format") or "json"
    if fmt not in FORMATS:
        raise ApiError(422, "invalid_value", f"format is one of {', '.join(FORMATS)}", field="format")
    lang = _lang(call)
    columns = call.query("columns") or "json"
    if columns not in COLUMN_STYLES:
        raise ApiError(422, "invalid_value", f"columns is one of {', '.join(COLUMN_STYLES)}", field="columns")

    def run(session: Session) -> tuple[list[dict[str, Any]], str, date, date]:
        office = require_office(session, call.actor, call.param("office_id"), read_only=True)
        today = office_day(call.now(), office.timezone)
        start = start_arg or (end_arg or today)
        end = end_arg or (start_arg or today)
        check_query(start, end, group_by, ALL_GROUP_BY)
        offices = office_tree(session, office)
        clerks: dict[int, tuple[str, str]] = {}  # names only for rows of clerks: a province has ~1,200 users
        if group_by in ("clerk", "ticket"):
            users = session.execute(select(col(User.id), col(User.username), col(User.full_name)).where(
                col(User.office_id).in_([o.id for o in offices]))).all()
            clerks = {u.id: (u.username, u.full_name) for u in users}
        if group_by == "procedure":
            rows = dossier_reports.by_procedure(session, offices, start, end)
        elif group_by == "ticket":
            rows = dossier_reports.by_visit(session, offices, start, end, clerks)
        else:
            rows = report(session, offices, start, end, group_by, clerks=clerks, lang=lang)
        return rows, office.code, start, end
    rows, code, start, end = await call.read(run)
    fields = dossier_reports.fields_of(group_by)
    name = f"report-{code}-{start.isoformat()}-{end.isoformat()}-{group_by}"
    header, body = table(rows, fields, columns=columns, group_by=group_by, lang=lang)
    if fmt == "csv":
        return Response(to_csv(header, body), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    if fmt == "xlsx":
        return Response(to_xlsx(header, body, group_by), media_type=XLSX_TYPE,
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return {"items": rows, "total": len(rows), "from": start.isoformat(), "to": end.isoformat(),
            "group_by": group_by, "fields": list(fields)}
