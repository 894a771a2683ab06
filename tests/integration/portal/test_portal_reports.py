"""Reports through the API: figures as JSON and CSV, for agents only, with a checked range."""

from __future__ import annotations

from datetime import UTC, datetime

from helpdesk.reports.counters import Delta
from helpdesk.reports.repository import ReportRepository
from tests.integration.portal.support import Desk


def _seed(desk: Desk) -> None:
    ReportRepository(desk.table).apply(
        "seed-1",
        [
            Delta("2026-03-02", "created", "all", count=3),
            Delta("2026-03-02", "created", "channel=email", count=2),
            Delta("2026-03-02", "created", "channel=portal", count=1),
            Delta("2026-03-03", "created", "all", count=1),
            Delta("2026-03-03", "first_response_calendar", "all", value=30.0),
            Delta("2026-03-03", "first_response_calendar", "all", value=90.0),
            Delta("2026-03-03", "solved", "all", count=2),
            Delta("2026-03-03", "replies", "agent=bob", count=4),
        ],
        now=datetime(2026, 3, 4, tzinfo=UTC),
    )


def test_an_agent_reads_the_figures_of_a_date_range(desk: Desk) -> None:
    _seed(desk)

    body = desk.get(
        "/api/agent/reports?start=2026-03-01&end=2026-03-04", headers=desk.agent("bob")
    ).json_body

    assert body["created"] == 4
    assert body["volume_by_day"] == {"2026-03-02": 3, "2026-03-03": 1}
    assert body["volume_by"]["channel"] == {"email": 2, "portal": 1}
    assert body["first_response_calendar"] == {"count": 2, "median": 30.0, "p90": 90.0}
    assert body["agent_replies"] == {"bob": 4}


def test_the_same_figures_download_as_csv(desk: Desk) -> None:
    _seed(desk)

    response = desk.get(
        "/api/agent/reports/csv?start=2026-03-01&end=2026-03-04", headers=desk.agent("bob")
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.body.decode().splitlines()
    assert lines[0] == "figure,key,value"
    assert "volume_by_day,2026-03-02,3" in lines
    assert "first_response_calendar,median_minutes,30" in lines


def test_customers_and_strangers_get_no_reports(desk: Desk) -> None:
    assert desk.get("/api/agent/reports").status_code == 401
    customer = desk.customer("ann@x.example")
    assert desk.get("/api/agent/reports", headers=customer).status_code in (401, 403)


def test_a_reversed_range_or_unknown_dimension_names_the_field(desk: Desk) -> None:
    bob = desk.agent("bob")

    reversed_range = desk.get("/api/agent/reports?start=2026-03-05&end=2026-03-01", headers=bob)
    unknown = desk.get("/api/agent/reports?dimension=colour%3Dred", headers=bob)

    assert reversed_range.status_code == 400
    assert reversed_range.json_body["error"]["field"] == "end"
    assert unknown.status_code == 400
    assert unknown.json_body["error"]["field"] == "dimension"
