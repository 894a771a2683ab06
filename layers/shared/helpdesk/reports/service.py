"""Reports for a date range: a few counter items a day, turned into figures."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from helpdesk.exceptions import ValidationError
from helpdesk.reports.figures import Report, build_report
from helpdesk.reports.repository import ReportRepository

MAX_DAYS = 366


def report(table: Any, *, start: date, end: date, dimension: str, today: date) -> Report:
    """The report for `dimension` from `start` to `end`; raises ValidationError for a range
    that is reversed or longer than a year."""
    if end < start:
        raise ValidationError("end is before start", field="end")
    if end - start > timedelta(days=MAX_DAYS):
        raise ValidationError(f"a report covers at most {MAX_DAYS} days", field="start")
    repository = ReportRepository(table)
    return build_report(
        repository.day_items(start, end),
        start=start,
        end=end,
        dimension=dimension,
        backlog=repository.backlog(),
        loads=repository.loads(),
        today=today,
    )
