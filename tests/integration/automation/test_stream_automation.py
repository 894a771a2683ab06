"""Rules and report counters fed by the table's real stream, on a seeded desk."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta
from typing import Any

from helpdesk.automation.rules import Action, Condition, Rule, Trigger
from helpdesk.automation.stream import AutomationProcessor
from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import (
    AuditEvent,
    Channel,
    Direction,
    Message,
    MessageKind,
    Priority,
    SlaClock,
    SlaMetrics,
    SlaState,
    Status,
    Ticket,
)
from helpdesk.domain.transitions import change_status, set_fields
from helpdesk.reports.counters import ALL
from helpdesk.reports.figures import build_report, percentile
from helpdesk.reports.repository import ReportRepository

DAY = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


class RecordingEffects:
    def __init__(self) -> None:
        self.run_effects: list[tuple[str, int]] = []

    def run(self, effect: Any, ticket: Ticket, *, now: datetime) -> None:
        self.run_effects.append((effect.action.type, ticket.number))


def drain(aws: Any, table: Any, processor: AutomationProcessor, iterators: dict[str, str]) -> int:
    """Feed every new stream record to the processor, as the stream mapping would."""
    streams = aws.client("dynamodbstreams")
    if not iterators:
        arn = aws.client("dynamodb").describe_table(TableName=table.name)["Table"][
            "LatestStreamArn"
        ]
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterators[shard["ShardId"]] = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
    seen = 0
    for shard, iterator in list(iterators.items()):
        while iterator:
            response = streams.get_records(ShardIterator=iterator)
            for record in response["Records"]:
                processor.process(record, now=DAY + timedelta(days=2))
                seen += 1
            iterator = response.get("NextShardIterator")
            iterators[shard] = iterator
            if not response["Records"]:
                break
    return seen


def _create(repo: TicketRepository, n: int, **fields: Any) -> Ticket:
    number = repo.next_number()
    created = DAY + timedelta(hours=n)
    ticket = Ticket(
        number=number,
        subject=fields.pop("subject", f"question {n}"),
        requester=f"customer{n}@example.org",
        created_at=created,
        updated_at=created,
        **fields,
    )
    message = Message(
        ticket_number=number,
        id=f"m{number}",
        created_at=created,
        direction=Direction.INBOUND,
        author=ticket.requester,
        text="help",
    )
    return repo.create(
        ticket, message, AuditEvent(ticket_number=number, at=created, actor="x", action="created")
    )


def test_report_figures_match_the_same_figures_computed_from_the_tickets(
    aws: Any, table: Any
) -> None:
    repo = TicketRepository(table)
    processor = AutomationProcessor(table, RecordingEffects())
    iterators: dict[str, str] = {}
    channels = [Channel.EMAIL, Channel.PORTAL, Channel.CHAT]
    for n in range(12):
        ticket = _create(repo, n, channel=channels[n % 3], team="billing" if n % 2 else "tech")
        if n % 3 == 0:
            continue
        solved_at = ticket.created_at + timedelta(hours=n + 1)
        first = 10.0 * (n + 1)
        metrics = SlaMetrics(
            first_response_calendar_minutes=first,
            first_response_business_minutes=first / 2,
            resolution_calendar_minutes=60.0 * (n + 1),
            resolution_business_minutes=30.0 * (n + 1),
        )
        due = ticket.created_at + timedelta(minutes=45)
        met = ticket.created_at + timedelta(minutes=first)
        sla = SlaState(
            first_response=SlaClock(due=due, met_at=met, breached_at=met if met > due else None),
            metrics=metrics,
        )
        solved, event = change_status(ticket, Status.SOLVED, now=solved_at, actor="agent-a")
        solved = solved.model_copy(update={"sla": sla, "csat": 1 + n % 5, "ai_resolved": n == 4})
        repo.save(ticket, solved, [event])
        if n == 5:
            fresh = repo.get(ticket.number)
            reopened, reopen_event = change_status(
                fresh, Status.OPEN, now=solved_at + timedelta(hours=1), actor="customer"
            )
            repo.save(fresh, reopened, [reopen_event])

    drain(aws, table, processor, iterators)
    replayed = drain(aws, table, processor, {})  # a second delivery of every record

    reports = ReportRepository(table)
    report = build_report(
        reports.day_items(date(2026, 3, 16), date(2026, 3, 18)),
        start=date(2026, 3, 16),
        end=date(2026, 3, 18),
        backlog=reports.backlog(),
        today=date(2026, 3, 18),
    )
    tickets = [repo.get(n) for n in range(1, 13)]
    solved_tickets = [
        t for t in tickets if t.solved_at or t.sla.metrics.resolution_calendar_minutes
    ]
    first_responses = [
        t.sla.metrics.first_response_calendar_minutes
        for t in tickets
        if t.sla.metrics.first_response_calendar_minutes is not None
    ]
    csats = [t.csat for t in tickets if t.csat is not None]
    met = sum(
        1 for t in tickets if t.sla.first_response.met_at and not t.sla.first_response.breached_at
    )
    breached = sum(1 for t in tickets if t.sla.first_response.breached_at)

    assert replayed > 0
    assert report.created == len(tickets) == 12
    assert report.volume_by["channel"] == {"email": 4, "portal": 4, "chat": 4}
    assert report.volume_by["team"] == {"tech": 6, "billing": 6}
    assert report.solved == len(solved_tickets) == 8
    assert report.reopened == 1
    assert report.reopen_rate == 1 / 8
    assert report.first_response_calendar.count == len(first_responses)
    assert report.first_response_calendar.median == percentile(first_responses, 0.5)
    assert report.first_response_calendar.p90 == percentile(first_responses, 0.9)
    assert report.csat_average == statistics.mean(csats)
    assert report.sla_compliance["first_response"] == met / (met + breached)
    assert report.ai_resolution_rate == 1 / 8
    assert report.backlog_open == sum(1 for t in tickets if t.status.category.value != "closed")
    assert report.dimension == ALL


def test_rules_fire_once_per_event_and_never_answer_their_own_write_on_the_stream(
    aws: Any, table: Any
) -> None:
    ConfigRepository(table).put(
        "rules",
        "urgent-outage",
        Rule(
            id="urgent-outage",
            name="Outages are urgent",
            trigger=Trigger.CREATED,
            conditions=[Condition(field="subject", op="contains", value="outage")],
            actions=[
                Action(type="set_field", field="priority", value="urgent"),
                Action(type="notify", to="lead@desk.org", message="outage #{{ticket.number}}"),
            ],
        ),
    )
    ConfigRepository(table).put(
        "rules",
        "any-update",
        Rule(
            id="any-update",
            name="tag every update",
            trigger=Trigger.UPDATED,
            actions=[Action(type="add_tag", tag="touched")],
        ),
    )
    repo = TicketRepository(table)
    effects = RecordingEffects()
    processor = AutomationProcessor(table, effects)
    iterators: dict[str, str] = {}
    outage = _create(repo, 1, subject="Total outage in EU")
    calm = _create(repo, 2, subject="How do I export?")

    drain(aws, table, processor, iterators)
    drain(aws, table, processor, iterators)  # the rule's own write comes back on the stream

    # The priority change cascades to the update rule inside the same evaluation: one save.
    assert repo.get(outage.number).priority == Priority.URGENT
    assert repo.get(outage.number).tags == ["touched"]
    assert repo.get(outage.number).version == 2
    assert repo.get(calm.number).priority == Priority.NORMAL
    assert repo.get(calm.number).tags == []
    assert effects.run_effects == [("notify", outage.number)]
    actions = [e.action for e in repo.thread(outage.number).events]
    assert actions.count("rule_fired") == 2

    agent_edit, event = set_fields(
        repo.get(calm.number), now=DAY, actor="agent-a", category="billing"
    )
    repo.save(repo.get(calm.number), agent_edit, [event])
    drain(aws, table, processor, iterators)

    assert repo.get(calm.number).tags == ["touched"]


def test_a_customer_reply_raises_the_customer_replied_event(aws: Any, table: Any) -> None:
    ConfigRepository(table).put(
        "rules",
        "reply-reopens-priority",
        Rule(
            id="reply-reopens-priority",
            name="Replies bump priority",
            trigger=Trigger.CUSTOMER_REPLIED,
            actions=[Action(type="set_field", field="priority", value="high")],
        ),
    )
    repo = TicketRepository(table)
    processor = AutomationProcessor(table, RecordingEffects())
    ticket = _create(repo, 1)
    reply = Message(
        ticket_number=ticket.number,
        id="reply",
        created_at=ticket.created_at + timedelta(hours=1),
        direction=Direction.INBOUND,
        kind=MessageKind.PUBLIC_REPLY,
        author=ticket.requester,
        text="any news?",
    )
    repo.save(ticket, ticket, [], [reply])

    drain(aws, table, processor, {})

    assert repo.get(ticket.number).priority == Priority.HIGH


def test_new_tickets_with_a_team_are_assigned_and_loads_follow_the_stream(
    aws: Any, table: Any
) -> None:
    from helpdesk.automation.assignment import AssignmentService
    from helpdesk.domain.models import Agent, AssignmentMode, Team

    config = ConfigRepository(table)
    config.put(
        "teams", "billing", Team(id="billing", name="Billing", assignment=AssignmentMode.LOAD_BASED)
    )
    for agent_id in ("ann", "bob"):
        config.put(
            "agents",
            agent_id,
            Agent(id=agent_id, email=f"{agent_id}@desk.org", name=agent_id, teams=["billing"]),
        )
    repo = TicketRepository(table)
    processor = AutomationProcessor(table, RecordingEffects())
    iterators: dict[str, str] = {}
    first = _create(repo, 1, team="billing")
    second = _create(repo, 2, team="billing")
    unrouted = _create(repo, 3)

    drain(aws, table, processor, iterators)

    assignees = {repo.get(first.number).assignee, repo.get(second.number).assignee}
    assert assignees == {"ann", "bob"}
    assert repo.get(unrouted.number).assignee is None
    assert AssignmentService(table).loads(["ann", "bob"]) == {"ann": 1, "bob": 1}

    done = repo.get(first.number)
    solved, event = change_status(done, Status.SOLVED, now=DAY + timedelta(days=1), actor="x")
    repo.save(done, solved, [event])
    drain(aws, table, processor, iterators)

    loads = AssignmentService(table).loads(["ann", "bob"])
    assert loads[str(done.assignee)] == 0
    assert sum(loads.values()) == 1


def test_a_ticket_pending_five_days_is_solved_by_the_sweep_with_a_notice(
    aws: Any, table: Any
) -> None:
    ConfigRepository(table).put(
        "rules",
        "close-stale",
        Rule(
            id="close-stale",
            name="Pending five days is solved",
            trigger=Trigger.TIME,
            conditions=[
                Condition(field="status", value="pending"),
                Condition(field="hours_in_status", op="hours_at_least", value=120),
            ],
            actions=[
                Action(type="set_field", field="status", value="solved"),
                Action(type="canned_reply", canned_id="closing-notice"),
            ],
        ),
    )
    repo = TicketRepository(table)
    effects = RecordingEffects()
    processor = AutomationProcessor(table, effects)
    iterators: dict[str, str] = {}
    ticket = _create(repo, 1)
    waiting, event = change_status(ticket, Status.PENDING, now=DAY, actor="agent-a")
    repo.save(ticket, waiting, [event])
    drain(aws, table, processor, iterators)

    scheduled = repo.get(ticket.number)
    early = processor.sweep(now=DAY + timedelta(hours=119))
    due = processor.sweep(now=DAY + timedelta(hours=120, minutes=1))
    again = processor.sweep(now=DAY + timedelta(hours=121))

    assert scheduled.automation_due == DAY + timedelta(hours=120)
    assert early == []
    assert due == [ticket.number]
    assert again == []
    solved = repo.get(ticket.number)
    assert solved.status == Status.SOLVED
    assert solved.automation_due is None
    assert effects.run_effects == [("canned_reply", ticket.number)]


def test_open_tickets_of_an_agent_away_too_long_move_to_an_available_one(
    aws: Any, table: Any
) -> None:
    from helpdesk.domain.models import Agent, AssignmentMode, Team

    config = ConfigRepository(table)
    config.put(
        "teams",
        "billing",
        Team(
            id="billing",
            name="Billing",
            assignment=AssignmentMode.ROUND_ROBIN,
            away_reassign_minutes=30,
        ),
    )
    config.put(
        "agents",
        "ann",
        Agent(
            id="ann",
            email="ann@desk.org",
            name="Ann",
            teams=["billing"],
            online=False,
            away_since=DAY - timedelta(hours=1),
        ),
    )
    config.put(
        "agents", "bob", Agent(id="bob", email="bob@desk.org", name="Bob", teams=["billing"])
    )
    repo = TicketRepository(table)
    held = _create(repo, 1, team="billing", assignee="ann")
    other = _create(repo, 2, team="billing", assignee="bob")
    processor = AutomationProcessor(table, RecordingEffects())

    moved = processor.reassign_away(now=DAY + timedelta(hours=3))

    assert moved == [(held.number, "bob")]
    assert repo.get(held.number).assignee == "bob"
    assert repo.get(other.number).assignee == "bob"
    assert [e.action for e in repo.thread(held.number).events][-1] == "reassigned_from_away"
