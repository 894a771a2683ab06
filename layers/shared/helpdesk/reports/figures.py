"""Report figures from the counters: volume, response and resolution times, SLA, CSAT, AI."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, Field

from helpdesk.reports.counters import ALL

TARGETS = ("first_response", "next_response", "resolution")


class Distribution(BaseModel):
    count: int = 0
    median: float | None = None
    p90: float | None = None


class Report(BaseModel):
    """Figures for a date range and one dimension (`all`, `channel=email`, `team=billing`...)."""

    start: date
    end: date
    dimension: str = ALL
    volume_by_day: dict[str, int] = Field(default_factory=dict)
    volume_by_week: dict[str, int] = Field(default_factory=dict)
    volume_by: dict[str, dict[str, int]] = Field(default_factory=dict)
    first_response_business: Distribution = Field(default_factory=Distribution)
    first_response_calendar: Distribution = Field(default_factory=Distribution)
    resolution_business: Distribution = Field(default_factory=Distribution)
    resolution_calendar: Distribution = Field(default_factory=Distribution)
    sla_compliance: dict[str, float | None] = Field(default_factory=dict)
    created: int = 0
    solved: int = 0
    reopened: int = 0
    reopen_rate: float | None = None
    csat_count: int = 0
    csat_average: float | None = None
    csat_satisfied: float | None = None
    ai_resolved: int = 0
    ai_resolution_rate: float | None = None
    duplicates: int = 0
    duplicate_rate: float | None = None
    backlog_open: int = 0
    backlog_age_days: dict[str, int] = Field(default_factory=dict)
    agent_replies: dict[str, int] = Field(default_factory=dict)
    agent_load: dict[str, int] = Field(default_factory=dict)


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile (0.5 for the median), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def build_report(
    items: list[dict[str, Any]],
    *,
    start: date,
    end: date,
    dimension: str = ALL,
    backlog: dict[str, int] | None = None,
    loads: dict[str, int] | None = None,
    today: date | None = None,
) -> Report:
    """The report for `dimension` over the counter items of `start`..`end`."""
    counts: dict[str, int] = defaultdict(int)
    values: dict[str, list[float]] = defaultdict(list)
    report = Report(start=start, end=end, dimension=dimension)
    by: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in items:
        metric, item_dimension = item["metric"], item["dimension"]
        if metric == "created" and item_dimension != ALL:
            kind, _, value = item_dimension.partition("=")
            by[kind][value] += int(item.get("count", 0))
        if metric == "replies":
            agent = item_dimension.removeprefix("agent=")
            report.agent_replies[agent] = report.agent_replies.get(agent, 0) + int(item["count"])
        if item_dimension != dimension:
            continue
        counts[metric] += int(item.get("count", 0))
        values[metric] += [float(v) for v in item.get("values", [])]
        if metric == "created":
            day = item["day"]
            report.volume_by_day[day] = report.volume_by_day.get(day, 0) + int(item["count"])
    report.volume_by = {kind: dict(per) for kind, per in by.items()}
    for day, count in report.volume_by_day.items():
        year, week, _ = date.fromisoformat(day).isocalendar()
        key = f"{year}-W{week:02d}"
        report.volume_by_week[key] = report.volume_by_week.get(key, 0) + count
    for metric in (
        "first_response_business",
        "first_response_calendar",
        "resolution_business",
        "resolution_calendar",
    ):
        sample = values[metric]
        setattr(
            report,
            metric,
            Distribution(
                count=len(sample), median=percentile(sample, 0.5), p90=percentile(sample, 0.9)
            ),
        )
    for target in TARGETS:
        met, breached = counts[f"sla_met.{target}"], counts[f"sla_breached.{target}"]
        report.sla_compliance[target] = met / (met + breached) if met + breached else None
    report.created, report.solved, report.reopened = (
        counts["created"],
        counts["solved"],
        counts["reopened"],
    )
    report.reopen_rate = _ratio(report.reopened, report.solved)
    csat = values["csat"]
    report.csat_count = len(csat)
    report.csat_average = sum(csat) / len(csat) if csat else None
    report.csat_satisfied = _ratio(sum(1 for v in csat if v >= 4), len(csat))
    report.ai_resolved = counts["ai_resolved"]
    report.ai_resolution_rate = _ratio(report.ai_resolved, report.solved)
    report.duplicates = counts["duplicates"]
    report.duplicate_rate = _ratio(report.duplicates, report.created)
    _backlog(report, backlog or {}, today or end)
    report.agent_load = {agent: n for agent, n in (loads or {}).items() if n > 0}
    return report


def _backlog(report: Report, backlog: dict[str, int], today: date) -> None:
    buckets = {"0-1": 0, "2-7": 0, "8-30": 0, "31+": 0}
    for day, count in backlog.items():
        if count <= 0:
            continue
        age = (today - date.fromisoformat(day)) // timedelta(days=1)
        key = "0-1" if age <= 1 else "2-7" if age <= 7 else "8-30" if age <= 30 else "31+"
        buckets[key] += count
        report.backlog_open += count
    report.backlog_age_days = buckets


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def to_csv(report: Report) -> str:
    """The report as CSV rows: figure, key, value."""
    rows = ["figure,key,value"]
    for day, count in sorted(report.volume_by_day.items()):
        rows.append(f"volume_by_day,{day},{count}")
    for week, count in sorted(report.volume_by_week.items()):
        rows.append(f"volume_by_week,{week},{count}")
    for kind, per in sorted(report.volume_by.items()):
        for key, count in sorted(per.items()):
            rows.append(f"volume_by_{kind},{_csv(key)},{count}")
    for metric in (
        "first_response_business",
        "first_response_calendar",
        "resolution_business",
        "resolution_calendar",
    ):
        distribution: Distribution = getattr(report, metric)
        rows.append(f"{metric},median_minutes,{_num(distribution.median)}")
        rows.append(f"{metric},p90_minutes,{_num(distribution.p90)}")
    for target, share in report.sla_compliance.items():
        rows.append(f"sla_compliance,{target},{_num(share)}")
    for name in (
        "created",
        "solved",
        "reopen_rate",
        "csat_average",
        "csat_satisfied",
        "ai_resolution_rate",
        "duplicate_rate",
        "backlog_open",
    ):
        rows.append(f"{name},,{_num(getattr(report, name))}")
    for bucket, count in report.backlog_age_days.items():
        rows.append(f"backlog_age_days,{bucket},{count}")
    for agent, count in sorted(report.agent_replies.items()):
        rows.append(f"agent_replies,{_csv(agent)},{count}")
    for agent, count in sorted(report.agent_load.items()):
        rows.append(f"agent_load,{_csv(agent)},{count}")
    return "\n".join(rows) + "\n"


def _num(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _csv(text: str) -> str:
    safe = text.replace('"', '""')
    if safe[:1] in {"=", "+", "-", "@"}:
        safe = "'" + safe
    return f'"{safe}"' if any(ch in safe for ch in ',"\n') else safe
