"""Reports for agents: figures over a date range and a dimension, as JSON or CSV."""

from __future__ import annotations

import re
from datetime import date, timedelta

from chalice import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from helpdesk.portal.blueprints import pages
from helpdesk.portal.router import Call, Router
from helpdesk.reports.figures import Report, to_csv
from helpdesk.reports.service import report

blueprint = Blueprint(__name__)
router = Router(blueprint, "reports")

_DIMENSION = re.compile(r"^(all|(channel|category|team)=[A-Za-z0-9_.@:-]{1,64})$")


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: date | None = None
    end: date | None = None
    dimension: str = Field(default="all", max_length=80)

    @field_validator("dimension")
    @classmethod
    def _known_dimension(cls, value: str) -> str:
        if not _DIMENSION.match(value):
            raise ValueError("dimension is all, or channel=, category= or team= a value")
        return value


@router.route("/reports", "GET", auth="public", summary="The reports page", produces="text/html")
def reports_page(call: Call) -> Response:
    return pages.static_files.response("agent", "reports.html")


def _figures(call: Call) -> Report:
    query: ReportQuery = call.query
    today = call.now.date()
    end = query.end or today
    start = query.start or end - timedelta(days=29)
    return report(call.portal.table, start=start, end=end, dimension=query.dimension, today=today)


@router.route(
    "/api/agent/reports",
    "GET",
    auth="agent",
    summary="Report figures for a date range (default: the last 30 days) and a dimension",
    query=ReportQuery,
    response=Report,
)
def figures(call: Call) -> Report:
    return _figures(call)


@router.route(
    "/api/agent/reports/csv",
    "GET",
    auth="agent",
    summary="The same figures as CSV",
    query=ReportQuery,
    produces="text/csv",
)
def figures_csv(call: Call) -> Response:
    found = _figures(call)
    name = f"helpdesk-report-{found.start}-{found.end}.csv"
    return Response(
        body=to_csv(found),
        status_code=200,
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
