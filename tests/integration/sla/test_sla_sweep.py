"""The SLA sweep against moto: exactly-once warnings, breaches and notices, even when sweeps
overlap; escalations; notices kept to working hours; the Lambda handler on a scheduled event."""

from __future__ import annotations

import importlib.util
import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import AuditEvent, Direction, Message, Priority, Ticket
from helpdesk.sla.calendar import Calendar
from helpdesk.sla.notify import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    MailIntentSender,
    Notifier,
    WebhookSender,
    verify,
)
from helpdesk.sla.policy import Escalation, SlaPolicy, Targets, Webhook
from helpdesk.sla.service import SlaStore, refresh_ticket
from helpdesk.sla.sweep import SlaSweep

ROOT = Path(__file__).resolve().parents[3]
SECRET = "s3cret-for-tests"
# Wednesday 2026-03-18, 12:00 UTC.
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)


class Hook:
    """A Slack-style webhook receiver on loopback that records each verified delivery."""

    def __init__(self, failures_first: int = 0) -> None:
        self.deliveries: list[dict[str, Any]] = []
        self.rejected = 0
        self._failures = failures_first
        self._lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with hook._lock:
                    if hook._failures > 0:
                        hook._failures -= 1
                        self.send_response(503)
                        self.end_headers()
                        return
                    signed = verify(
                        SECRET,
                        self.headers.get(TIMESTAMP_HEADER, ""),
                        body,
                        self.headers.get(SIGNATURE_HEADER, ""),
                        now_epoch=__import__("time").time(),
                    )
                    if signed:
                        hook.deliveries.append(json.loads(body))
                    else:
                        hook.rejected += 1
                self.send_response(200 if signed else 401)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Hook:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    with Hook() as running:
        yield running


def _policy(hook_url: str, **extra: Any) -> SlaPolicy:
    return SlaPolicy(
        id="standard",
        business_hours=False,
        warn_at=0.75,
        targets=Targets(first_response=60, resolution=24 * 60),
        escalations=[
            Escalation(on="warning", webhooks=[Webhook(url=hook_url)]),
            Escalation(
                on="breach",
                webhooks=[Webhook(url=hook_url)],
                notify_emails=["lead@example.org"],
                **extra,
            ),
        ],
    )


def _open_ticket(
    repo: TicketRepository, store: SlaStore, created: datetime, **fields: Any
) -> Ticket:
    number = repo.next_number()
    ticket = Ticket(
        number=number,
        subject=f"printer on fire {number}",
        requester="ada@example.org",
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
        text="it smokes",
    )
    event = AuditEvent(ticket_number=number, at=created, actor=ticket.requester, action="created")
    ticket = refresh_ticket(ticket, [message], [event], store.rules(), now=created)
    return repo.create(ticket, message, event)


class _MeetingRepository(TicketRepository):
    """The real repository, except that every sweep waits at `barrier` after reading the due
    index, so that the sweeps all hold the same, soon stale, tickets before any writes."""

    def __init__(self, table: Any, barrier: threading.Barrier) -> None:
        super().__init__(table)
        self._barrier = barrier

    def due_before(self, now: datetime, *, limit: int = 500) -> list[Ticket]:
        due = super().due_before(now, limit=limit)
        self._barrier.wait(timeout=60)
        return due


def _sweep(
    table_name: str,
    *,
    sleep: Any = None,
    barrier: threading.Barrier | None = None,
    budget_seconds: float = 40.0,
) -> SlaSweep:
    # Each sweep has its own session and table resource, as two Lambda invocations would.
    table = boto3.session.Session(region_name="us-east-1").resource("dynamodb").Table(table_name)
    sender = WebhookSender({"default": SECRET}, sleep=sleep or (lambda _seconds: None))
    return SlaSweep(
        _MeetingRepository(table, barrier) if barrier else TicketRepository(table),
        SlaStore(ConfigRepository(table)),
        Notifier({"webhook": sender, "email": MailIntentSender()}),
        budget_seconds=budget_seconds,
    )


def _actions(repo: TicketRepository, number: int) -> Counter[str]:
    return Counter(event.action for event in repo.thread(number).events)


def test_two_overlapping_sweeps_fire_and_notify_each_warning_and_breach_once(
    table: Any, hook: Hook
) -> None:
    # GIVEN 4 tickets past their first-response deadline (created 70 minutes ago, due at 60)
    # and 4 past the warning (created 50 minutes ago: warned at 45, due at 60)
    repo = TicketRepository(table)
    store = SlaStore(ConfigRepository(table))
    ConfigRepository(table).put("sla_policy", "standard", _policy(hook.url))
    late = [_open_ticket(repo, store, NOW - timedelta(minutes=70)) for _ in range(4)]
    close = [_open_ticket(repo, store, NOW - timedelta(minutes=50)) for _ in range(4)]

    # WHEN two sweeps run at the same time, both reading the same due tickets before either
    # writes, and then a retried one
    barrier = threading.Barrier(2)
    reports = []

    def run() -> None:
        reports.append(_sweep(table.name, barrier=barrier).run(now=NOW))

    workers = [threading.Thread(target=run) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    retry = _sweep(table.name).run(now=NOW)

    # THEN each breach and warning was recorded once, with its detection time and audit event
    for ticket in late:
        stored = repo.get(ticket.number)
        assert stored.sla.first_response.breached_at == NOW
        assert _actions(repo, ticket.number)["sla_breached"] == 1
        assert _actions(repo, ticket.number)["sla_warned"] == 0
    for ticket in close:
        stored = repo.get(ticket.number)
        assert stored.sla.first_response.warned_at == NOW
        assert stored.sla.first_response.breached_at is None
        assert _actions(repo, ticket.number)["sla_warned"] == 1
    # (every ticket was contended: the losing sweep's first write failed and it re-read)
    assert sum(report.conflicts for report in reports) >= 8
    assert sum(report.breaches for report in reports) == 4
    assert sum(report.warnings for report in reports) == 4
    assert retry.breaches == retry.warnings == retry.notices_sent == 0

    # AND each was notified once by webhook: 4 breaches and 4 warnings, no repeats
    notices = Counter(
        delivery["notice_id"] + f"#{delivery['ticket_number']}" for delivery in hook.deliveries
    )
    assert len(hook.deliveries) == 8
    assert set(notices.values()) == {1}
    assert Counter(delivery["kind"] for delivery in hook.deliveries) == {"breach": 4, "warning": 4}
    assert hook.rejected == 0
    # AND the mail notice of each breach is kept as an intent, recorded once
    for ticket in late:
        mails = [n for n in repo.get(ticket.number).sla.notifications if n.channel == "email"]
        assert len(mails) == 1
        assert mails[0].delivered_at is None
        assert mails[0].failure is not None
        assert _actions(repo, ticket.number)["sla_notice_failed"] == 1


def test_breached_tickets_leave_the_due_index_until_their_next_deadline(
    table: Any, hook: Hook
) -> None:
    # GIVEN a ticket past its first response, with resolution due in a day
    repo = TicketRepository(table)
    store = SlaStore(ConfigRepository(table))
    ConfigRepository(table).put("sla_policy", "standard", _policy(hook.url))
    ticket = _open_ticket(repo, store, NOW - timedelta(minutes=70))

    # WHEN the sweep breaches it
    _sweep(table.name).run(now=NOW)

    # THEN the due index holds it again only from its resolution warning: 75% of 24h = 18h
    # after its creation 70 minutes ago, so 16h50m from now
    assert repo.due_before(NOW + timedelta(hours=16, minutes=49)) == []
    due = repo.due_before(NOW + timedelta(hours=16, minutes=51))
    assert [t.number for t in due] == [ticket.number]


def test_a_breach_raises_the_priority_reassigns_and_recomputes_deadlines(
    table: Any, hook: Hook
) -> None:
    # GIVEN a normal ticket past its first response, under a policy whose breach escalation
    # raises the priority one step and moves the ticket to the escalations team, and whose
    # resolution target for high tickets is 2 hours (24 hours for normal ones)
    repo = TicketRepository(table)
    store = SlaStore(ConfigRepository(table))
    policy = _policy(hook.url, raise_priority="one_step", assign_team="escalations")
    policy = policy.model_copy(
        update={
            "targets": {
                Priority.NORMAL: Targets(first_response=60, resolution=24 * 60),
                Priority.HIGH: Targets(first_response=60, resolution=120),
            }
        }
    )
    ConfigRepository(table).put("sla_policy", "standard", policy)
    created = NOW - timedelta(minutes=70)
    ticket = _open_ticket(repo, store, created)

    # WHEN the sweep breaches it
    _sweep(table.name).run(now=NOW)

    # THEN it is high, in the escalations team, and its resolution is due 2h after creation
    stored = repo.get(ticket.number)
    assert stored.priority == Priority.HIGH
    assert stored.team == "escalations"
    assert stored.sla.resolution.due == created + timedelta(minutes=120)
    assert stored.sla.first_response.breached_at == NOW
    assert {"sla_breached", "priority_changed", "team_changed"} <= set(
        _actions(repo, ticket.number)
    )


def test_a_notice_kept_to_working_hours_waits_for_the_next_working_minute(
    table: Any, hook: Hook
) -> None:
    # GIVEN a breach on Saturday 2026-03-21 10:10 UTC, and a policy that notifies only in
    # weekday hours 09:00-17:00 UTC (calendar "office")
    repo = TicketRepository(table)
    config = ConfigRepository(table)
    store = SlaStore(config)
    office = Calendar(
        id="office", hours={d: [("09:00", "17:00")] for d in ("mon", "tue", "wed", "thu", "fri")}
    )
    config.put("calendar", "office", office)
    policy = _policy(hook.url, within_hours=True).model_copy(
        update={"calendar_id": "office", "targets": Targets(first_response=60)}
    )
    config.put("sla_policy", "standard", policy)
    saturday = datetime(2026, 3, 21, 10, 10, tzinfo=UTC)
    ticket = _open_ticket(repo, store, saturday - timedelta(minutes=70))

    # WHEN the sweep runs on Saturday, and again on Monday at 09:00 UTC
    _sweep(table.name).run(now=saturday)
    delivered_on_saturday = len(hook.deliveries)
    monday = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
    _sweep(table.name).run(now=monday)

    # THEN the breach is recorded on Saturday but its webhook goes out on Monday, once
    assert repo.get(ticket.number).sla.first_response.breached_at == saturday
    assert delivered_on_saturday == 0
    assert [d["kind"] for d in hook.deliveries] == ["breach"]


def test_a_webhook_answering_503_is_retried_and_delivered_once(table: Any) -> None:
    # GIVEN a receiver that fails twice with 503 before accepting
    repo = TicketRepository(table)
    store = SlaStore(ConfigRepository(table))
    waits: list[float] = []
    with Hook(failures_first=2) as flaky:
        ConfigRepository(table).put("sla_policy", "standard", _policy(flaky.url))
        _open_ticket(repo, store, NOW - timedelta(minutes=70))

        # WHEN the sweep breaches the ticket
        report = _sweep(table.name, sleep=waits.append).run(now=NOW)

    # THEN it was delivered on the third attempt, after growing waits
    assert [d["kind"] for d in flaky.deliveries] == ["breach"]
    assert report.notices_sent == 1
    assert waits == [0.5, 1.0]


def test_the_sla_function_sweeps_on_a_scheduled_event_and_ignores_others(
    table: Any, stack: Any, hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the function's environment and a ticket long past its first response
    for name, value in stack.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HELPDESK_SLA_WEBHOOK_SECRETS", json.dumps({"default": SECRET}))
    from helpdesk.sla import runtime

    runtime.sla_settings.cache_clear()
    repo = TicketRepository(table)
    store = SlaStore(ConfigRepository(table))
    ConfigRepository(table).put("sla_policy", "standard", _policy(hook.url))
    ticket = _open_ticket(repo, store, datetime.now(UTC) - timedelta(hours=2))
    app = _load_function("sla")
    scheduled = json.loads((ROOT / "tests/fixtures/events/eventbridge_scheduled.json").read_text())
    inbox = _subscribe(stack.buses["EventBus"], ["SLA Breached", "SLA Warning"])

    # WHEN it gets an unrelated event, then the scheduled one
    ignored = app.handler({**scheduled, "detail-type": "Object Created"}, _Context())
    result = app.handler(scheduled, _Context())
    runtime.sla_settings.cache_clear()

    # THEN only the scheduled event swept, and the breach is on the ticket and notified
    assert ignored == {"ignored": "Object Created"}
    assert result["breaches"] == 1
    assert repo.get(ticket.number).sla.first_response.breached_at is not None
    assert [d["kind"] for d in hook.deliveries] == ["breach"]
    # AND the breach went out as one domain event on the desk's bus
    published = _drain(inbox)
    assert [(e["detail-type"], e["detail"]["target"]) for e in published] == [
        ("SLA Breached", "first_response")
    ]
    assert published[0]["detail"]["ticket_number"] == ticket.number


def _subscribe(bus: str, detail_types: list[str]) -> str:
    """An SQS queue that receives the bus's events of these detail types; returns its URL."""
    session = boto3.session.Session(region_name="us-east-1")
    sqs, events = session.client("sqs"), session.client("events")
    url = sqs.create_queue(QueueName=f"{bus}-sla-inbox")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="sla-inbox",
        EventBusName=bus,
        EventPattern=json.dumps({"source": ["helpdesk"], "detail-type": detail_types}),
    )
    events.put_targets(Rule="sla-inbox", EventBusName=bus, Targets=[{"Id": "inbox", "Arn": arn}])
    return url


def _drain(url: str) -> list[dict[str, Any]]:
    sqs = boto3.session.Session(region_name="us-east-1").client("sqs")
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
    return [json.loads(message["Body"]) for message in received.get("Messages", [])]


class _Context:
    function_name = "sla"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sla"
    aws_request_id = "req-1"


def _load_function(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(
        f"{name}_app", ROOT / "functions" / name / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_notices_left_when_the_time_budget_is_spent_go_out_with_the_next_sweep(
    table: Any, hook: Hook
) -> None:
    # GIVEN a ticket past its first response
    repo = TicketRepository(table)
    store = SlaStore(ConfigRepository(table))
    ConfigRepository(table).put("sla_policy", "standard", _policy(hook.url))
    ticket = _open_ticket(repo, store, NOW - timedelta(minutes=70))

    # WHEN a sweep with no time left for sending runs, then a normal one a minute later
    spent = _sweep(table.name, budget_seconds=0).run(now=NOW)
    delivered_first = len(hook.deliveries)
    later = _sweep(table.name).run(now=NOW + timedelta(minutes=1))

    # THEN the breach was recorded by the first and notified, once, by the second
    assert spent.breaches == 1 and spent.deferred == 1
    assert delivered_first == 0
    assert later.breaches == 0 and later.notices_sent == 1
    assert [d["kind"] for d in hook.deliveries] == ["breach"]
    assert repo.get(ticket.number).sla.first_response.breached_at == NOW
