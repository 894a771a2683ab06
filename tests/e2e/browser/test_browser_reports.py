"""The reports page: the chart is drawn from the API's figures, and the CSV export works."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.browser.support import Desk, screenshot, sign_in_agent


def test_reports_page_draws_one_bar_per_day_from_the_reported_volume(
    desk: Desk, seeded: dict[str, Any], open_page: Any
) -> None:
    from playwright.sync_api import expect

    from helpdesk.reports.counters import Delta
    from helpdesk.reports.repository import ReportRepository

    today = datetime.now(UTC).date()
    seeded_days = {today - timedelta(days=offset): 5 + offset * 3 for offset in (1, 2, 4)}
    table = desk.stack.session.resource("dynamodb").Table(desk.stack.stack.tables["Table"])
    ReportRepository(table).apply(
        f"browser-{today}",
        [Delta(day.isoformat(), "created", "all", count=n) for day, n in seeded_days.items()],
        now=datetime.now(UTC),
    )
    token = desk.agent_token(seeded["agent_id"])
    reported = desk.ok("GET", "api/agent/reports", token=token)["volume_by_day"]
    page, watch = open_page(desk.agent_url)
    sign_in_agent(page, seeded["agent_id"])

    page.goto(desk.base + "reports")
    expect(page.locator("body")).to_have_attribute("data-loaded", "true")

    bars = page.locator("#volume-chart rect.bar")
    expect(bars).to_have_count(30)
    drawn = {
        bars.nth(i).get_attribute("data-day"): int(bars.nth(i).get_attribute("data-value") or -1)
        for i in range(30)
    }
    for day, count in reported.items():
        assert drawn[day] == count
    for day, count in seeded_days.items():
        assert drawn[day.isoformat()] >= count
    heights = {day: float(bars.nth(i).get_attribute("height") or 0) for i, day in enumerate(drawn)}
    tallest = max(reported, key=lambda day: reported[day])
    assert heights[tallest] == max(heights.values()) > 0
    assert all(heights[day] == 0 for day in drawn if reported.get(str(day), 0) == 0)
    expect(page.locator("#figures")).to_contain_text("Created")
    screenshot(page, "agent-reports")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Export CSV").click()
    csv_text = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert csv_text.startswith("figure,key,value")
    some_day = next(iter(seeded_days)).isoformat()
    assert f"volume_by_day,{some_day}," in csv_text
    assert watch.errors == []
