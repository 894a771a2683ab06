"""The triage pipeline against moto: real stream records in, triaged and grouped tickets out."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpdesk.ai.embed import OnnxEmbedder
from helpdesk.ai.grouping import INCIDENT_TAG, Thresholds, notify_incident_children
from helpdesk.ai.index import PersistentIndex, S3IndexStore
from helpdesk.ai.pipeline import Pipeline
from helpdesk.ai.service import CONFIG_ID, CONFIG_KIND, build_pipeline, handle_batch
from helpdesk.ai.triage import Example, LocalTriager, TriageConfig
from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import (
    AuditEvent,
    Direction,
    Message,
    Priority,
    Status,
    Ticket,
)
from helpdesk.events import EventPublisher

ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
INDEX_KEY = "ai/index/test.npz"

CONFIG = TriageConfig(
    categories=["billing", "login", "shipping", "checkout"],
    routing={"billing": "finance", "login": "accounts", "shipping": "logistics", "checkout": "web"},
    default_team="front-desk",
    vip_requesters=["@bigcustomer.example"],
    examples=[
        Example(text="I was charged twice for my order", category="billing"),
        Example(text="Please refund the duplicate payment on my card", category="billing"),
        Example(text="My invoice shows the wrong amount", category="billing"),
        Example(text="I cannot log in to my account", category="login"),
        Example(text="My password reset link does not work", category="login"),
        Example(text="Two-factor code never arrives so I cannot sign in", category="login"),
        Example(text="Where is my parcel? It has not arrived", category="shipping"),
        Example(text="The delivery is two weeks late", category="shipping"),
        Example(text="The checkout page fails when I press pay", category="checkout"),
        Example(text="The basket empties itself at checkout", category="checkout"),
    ],
)


def _ticket(repo: TicketRepository, subject: str, body: str, requester: str, at: datetime) -> int:
    number = repo.next_number()
    ticket = Ticket(
        number=number, subject=subject, requester=requester, created_at=at, updated_at=at
    )
    message = Message(
        ticket_number=number,
        id=f"m{number}",
        created_at=at,
        direction=Direction.INBOUND,
        author=requester,
        text=body,
        visible_text=body,
        message_id=f"<mail-{number}@example.org>",
    )
    event = AuditEvent(ticket_number=number, at=at, actor=requester, action="created")
    repo.create(ticket, message, event)
    return number


@pytest.fixture
def repo(table: Any) -> TicketRepository:
    return TicketRepository(table)


@pytest.fixture
def events_queue(aws: Any, stack: Any) -> str:
    """An SQS queue that receives every domain event published on the desk's bus."""
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=f"{stack.prefix}-domain-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = aws.client("events")
    bus = stack.buses["EventBus"]
    events.put_rule(Name="all", EventBusName=bus, EventPattern=json.dumps({"source": ["helpdesk"]}))
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return url


def _domain_events(aws: Any, url: str) -> list[dict[str, Any]]:
    messages = aws.client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


@pytest.fixture
def store(aws: Any, stack: Any) -> S3IndexStore:
    return S3IndexStore(aws.client("s3"), stack.buckets["AttachmentBucket"], INDEX_KEY)


@pytest.fixture
def pipeline(
    repo: TicketRepository, store: S3IndexStore, aws: Any, stack: Any, embedder: OnnxEmbedder
) -> Pipeline:
    return Pipeline(
        tickets=repo,
        index=PersistentIndex(store, embedder.dimension),
        embedder=embedder,
        triager=LocalTriager(embedder, CONFIG),
        publisher=EventPublisher(aws.client("events"), stack.buses["EventBus"]),
        thresholds=Thresholds(),
        window=timedelta(days=14),
        incident_requester="support@example.com",
        vip=CONFIG.is_vip,
    )


def test_new_ticket_gets_category_priority_team_and_an_ai_audit_event(
    repo, pipeline, stream, events_queue, aws
) -> None:
    number = _ticket(
        repo, "Charged twice", "You charged my card twice for order 5512.", "ada@example.org", NOW
    )

    response = handle_batch(stream.batch(), None, now=NOW, pipeline=pipeline)

    assert response == {"batchItemFailures": []}
    thread = repo.thread(number)
    ticket = thread.ticket
    assert (ticket.category, ticket.team, ticket.priority) == ("billing", "finance", Priority.HIGH)
    assert ticket.triage is not None
    assert ticket.triage.priority_reasons == ["money"]
    assert ticket.triage.provider == "local"
    assert ticket.triage.language == "en"
    assert ticket.triage.category_confidence > 0.35
    triaged = [event for event in thread.events if event.action == "triaged"]
    assert len(triaged) == 1 and triaged[0].ai
    published = _domain_events(aws, events_queue)
    assert [event["detail-type"] for event in published] == ["TicketTriaged"]
    assert published[0]["detail"]["category"] == "billing"


def test_its_own_write_comes_back_on_the_stream_without_a_second_triage(
    repo, pipeline, stream
) -> None:
    number = _ticket(repo, "Cannot log in", "My password is refused.", "ada@example.org", NOW)
    handle_batch(stream.batch(), None, now=NOW, pipeline=pipeline)

    again = stream.batch()
    handle_batch(again, None, now=NOW, pipeline=pipeline)

    ticket_records = [
        r["eventName"] for r in again["Records"] if r["dynamodb"]["Keys"]["SK"]["S"] == "TICKET"
    ]
    assert ticket_records == ["MODIFY"]
    thread = repo.thread(number)
    assert [event.action for event in thread.events].count("triaged") == 1
    assert thread.ticket.version == 2


def test_near_identical_second_mail_from_the_same_requester_is_merged(
    repo, pipeline, stream, store, embedder
) -> None:
    first = _ticket(
        repo,
        "Parcel not delivered",
        "My parcel for order 7781 has not arrived yet. Can you check where it is?",
        "ada@example.org",
        NOW,
    )
    handle_batch(stream.batch(), None, now=NOW, pipeline=pipeline)
    later = NOW + timedelta(minutes=30)
    second = _ticket(
        repo,
        "Parcel not delivered",
        "My parcel for order 7781 has not arrived yet. Could you check where it is?",
        "ada@example.org",
        later,
    )

    handle_batch(stream.batch(), None, now=later, pipeline=pipeline)

    duplicate = repo.get(second)
    assert duplicate.duplicate_of == first
    assert duplicate.status == Status.CLOSED
    original = repo.thread(first)
    assert original.ticket.status == Status.OPEN
    assert any(m.id == f"merged-{second}" for m in original.messages)
    assert any(e.action == "merged_in" and e.ai for e in original.events)
    cold = PersistentIndex(store, embedder.dimension)
    assert str(first) in cold.index and str(second) not in cold.index


def test_same_text_from_another_requester_is_not_merged(repo, pipeline, stream) -> None:
    _ticket(repo, "Parcel late", "My parcel for order 1 has not arrived.", "ada@example.org", NOW)
    handle_batch(stream.batch(), None, now=NOW, pipeline=pipeline)
    other = _ticket(
        repo, "Parcel late", "My parcel for order 1 has not arrived.", "bob@example.org", NOW
    )

    handle_batch(stream.batch(), None, now=NOW + timedelta(minutes=5), pipeline=pipeline)

    ticket = repo.get(other)
    assert ticket.duplicate_of is None and ticket.status == Status.OPEN
    assert ticket.triage is not None
    assert ticket.triage.similar and ticket.triage.similar[0]["score"] > 0.9


def test_two_requesters_with_the_same_outage_become_one_incident_and_solving_it_notifies_both(
    repo, pipeline, stream, events_queue, aws
) -> None:
    alice = _ticket(
        repo,
        "Checkout broken",
        "The checkout page fails with error 503 for all our users since 9:00.",
        "alice@shop.example",
        NOW,
    )
    handle_batch(stream.batch(), None, now=NOW, pipeline=pipeline)
    later = NOW + timedelta(minutes=20)
    bob = _ticket(
        repo,
        "Checkout down",
        "Checkout fails with error 503 for everyone on our team since this morning.",
        "bob@other.example",
        later,
    )

    handle_batch(stream.batch(), None, now=later, pipeline=pipeline)

    first, second = repo.get(alice), repo.get(bob)
    assert first.incident_of is not None and first.incident_of == second.incident_of
    parent = repo.get(first.incident_of)
    assert INCIDENT_TAG in parent.tags
    assert parent.incident_children == [alice, bob]
    assert parent.priority == Priority.URGENT
    kinds = [event["detail-type"] for event in _domain_events(aws, events_queue)]
    assert "IncidentCreated" in kinds

    # WHEN an agent solves the parent and the portal asks to notify the children
    notified: list[tuple[int, str]] = []
    solved = notify_incident_children(
        repo,
        parent.number,
        now=later + timedelta(hours=1),
        notify=lambda child, incident: notified.append((child.number, child.requester)),
    )

    # THEN each child is solved and its own requester is told, once
    assert solved == [alice, bob]
    assert notified == [(alice, "alice@shop.example"), (bob, "bob@other.example")]
    assert repo.get(alice).status == Status.SOLVED and repo.get(bob).status == Status.SOLVED
    assert notify_incident_children(repo, parent.number, now=later, notify=lambda *_: None) == []


def test_a_third_report_joins_the_existing_incident(repo, pipeline, stream) -> None:
    text = "Login fails with error E4031 for all users of our company."
    numbers = []
    for minute, who in enumerate(["a@one.example", "b@two.example", "c@three.example"]):
        at = NOW + timedelta(minutes=10 * minute)
        numbers.append(_ticket(repo, "Cannot log in", text, who, at))
        handle_batch(stream.batch(), None, now=at, pipeline=pipeline)

    parents = {repo.get(number).incident_of for number in numbers}
    assert len(parents) == 1 and None not in parents
    assert repo.get(parents.pop()).incident_children == numbers


def test_a_failing_record_is_reported_alone_while_the_others_proceed(
    repo, pipeline, stream
) -> None:
    good = _ticket(repo, "Cannot log in", "My password is refused.", "ada@example.org", NOW)
    bad = _ticket(repo, "Charged twice", "Two charges for one order.", "bob@example.org", NOW)
    also_good = _ticket(repo, "Parcel late", "Where is my parcel?", "cy@example.org", NOW)
    batch = stream.batch()
    broken = next(
        record
        for record in batch["Records"]
        if record["dynamodb"]["Keys"]["PK"]["S"] == f"TICKET#{bad}"
        and record["dynamodb"]["Keys"]["SK"]["S"] == "TICKET"
    )
    del broken["dynamodb"]["NewImage"]["subject"]

    response = handle_batch(batch, None, now=NOW, pipeline=pipeline)

    assert response["batchItemFailures"] == [
        {"itemIdentifier": broken["dynamodb"]["SequenceNumber"]}
    ]
    assert repo.get(good).triage is not None
    assert repo.get(also_good).triage is not None
    assert repo.get(bad).triage is None


def test_a_new_customer_message_about_an_outage_raises_the_priority(repo, pipeline, stream) -> None:
    number = _ticket(repo, "Question", "How do I export my data?", "ada@example.org", NOW)
    handle_batch(stream.batch(), None, now=NOW, pipeline=pipeline)
    ticket = repo.get(number)
    assert ticket.priority == Priority.NORMAL
    later = NOW + timedelta(hours=1)
    reply = Message(
        ticket_number=number,
        id="m-reply",
        created_at=later,
        direction=Direction.INBOUND,
        author="ada@example.org",
        text="Now the whole site is down for everyone, nobody can work!",
        visible_text="Now the whole site is down for everyone, nobody can work!",
    )
    repo.save(ticket, ticket.model_copy(update={"updated_at": later}), [], [reply])

    handle_batch(stream.batch(), None, now=later, pipeline=pipeline)

    raised = repo.thread(number)
    assert raised.ticket.priority == Priority.URGENT
    assert raised.ticket.triage is not None and "outage" in raised.ticket.triage.priority_reasons
    assert any(e.action == "priority_raised" and e.ai for e in raised.events)


def test_a_closed_ticket_leaves_the_index(repo, pipeline, stream) -> None:
    number = _ticket(repo, "Cannot log in", "My password is refused.", "ada@example.org", NOW)
    handle_batch(stream.batch(), None, now=NOW, pipeline=pipeline)
    assert str(number) in pipeline.index.index
    ticket = repo.get(number)
    repo.save(ticket, ticket.model_copy(update={"status": Status.CLOSED}), [])

    handle_batch(stream.batch(), None, now=NOW, pipeline=pipeline)

    assert str(number) not in pipeline.index.index


@dataclass
class _Context:
    function_name: str = "triage"
    memory_limit_in_mb: int = 1536
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:triage"
    aws_request_id: str = "req-1"


def test_the_lambda_handler_reads_its_settings_and_the_desks_triage_config(
    repo, table, stream, stack, monkeypatch, aws
) -> None:
    # GIVEN the function's environment and the desk's triage configuration in the table
    for name, value in stack.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HELPDESK_INDEX_KEY", INDEX_KEY)
    ConfigRepository(table).put(CONFIG_KIND, CONFIG_ID, CONFIG)
    from helpdesk.ai.settings import triage_settings

    triage_settings.cache_clear()
    build_pipeline.cache_clear()
    spec = importlib.util.spec_from_file_location("triage_app", ROOT / "functions/triage/app.py")
    assert spec is not None and spec.loader is not None
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    number = _ticket(
        repo, "Invoice wrong", "My invoice shows the wrong amount.", "vip@bigcustomer.example", NOW
    )
    stream.batch()  # NOTE: the config item is on the stream too; start from the ticket only.
    number2 = _ticket(repo, "Parcel", "Where is my parcel?", "z@example.org", NOW)

    try:
        response = app.handler(stream.batch(), _Context())
    finally:
        build_pipeline.cache_clear()
        triage_settings.cache_clear()

    assert response == {"batchItemFailures": []}
    assert repo.get(number).triage is None  # its record was consumed before the handler ran
    ticket = repo.get(number2)
    assert (ticket.category, ticket.team) == ("shipping", "logistics")
    stored = aws.client("s3").get_object(Bucket=stack.buckets["AttachmentBucket"], Key=INDEX_KEY)
    assert stored["ContentLength"] > 0


class _AgentWritesFirst(TicketRepository):
    """A repository where an agent assigns the ticket just before triage's first save."""

    def __init__(self, table: Any) -> None:
        super().__init__(table)
        self.raced = False

    def save(self, before, after, events, messages=None):  # type: ignore[no-untyped-def]
        if not self.raced and after.triage is not None:
            self.raced = True
            current = self.get(before.number)
            agent = current.model_copy(update={"assignee": "agent-7"})
            super().save(current, agent, [])
        return super().save(before, after, events, messages)


def test_an_agents_change_during_triage_is_kept_and_triage_retries(table, pipeline, stream) -> None:
    racing = _AgentWritesFirst(table)
    pipeline.tickets = racing
    number = _ticket(racing, "Cannot log in", "My password is refused.", "ada@example.org", NOW)

    response = handle_batch(stream.batch(), None, now=NOW, pipeline=pipeline)

    assert response == {"batchItemFailures": []}
    ticket = racing.get(number)
    assert racing.raced
    assert ticket.assignee == "agent-7"
    assert ticket.triage is not None and ticket.category == "login"


def test_with_claude_configured_the_handler_triages_through_the_model_and_its_secret(
    repo, table, stream, stack, monkeypatch, aws, messages_stub
) -> None:
    # GIVEN the anthropic provider, its key in Secrets Manager, and the SDK's base URL on loopback
    for name, value in stack.environment().items():
        monkeypatch.setenv(name, value)
    secret = aws.client("secretsmanager").create_secret(
        Name=f"{stack.prefix}-llm", SecretString="sk-from-secrets-manager"
    )["ARN"]
    monkeypatch.setenv("HELPDESK_LLM_PROVIDER", "anthropic")
    monkeypatch.setenv("HELPDESK_LLM_SECRET_ARN", secret)
    monkeypatch.setenv("HELPDESK_LLM_TIMEOUT_SECONDS", "2")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", messages_stub.url)
    monkeypatch.setenv("HELPDESK_INDEX_KEY", INDEX_KEY)
    ConfigRepository(table).put(CONFIG_KIND, CONFIG_ID, CONFIG)
    stream.batch()
    messages_stub.reply_tool(
        {"category": "shipping", "confidence": 0.88, "language": "en", "summary": "Parcel late"}
    )
    number = _ticket(repo, "Parcel", "Where is my parcel? It is late.", "z@example.org", NOW)
    from helpdesk.ai.settings import triage_settings

    triage_settings.cache_clear()
    build_pipeline.cache_clear()
    try:
        response = handle_batch(stream.batch(), None, now=NOW)
    finally:
        build_pipeline.cache_clear()
        triage_settings.cache_clear()

    # THEN the model's answer is used, with the key read from the secret
    assert response == {"batchItemFailures": []}
    ticket = repo.get(number)
    assert ticket.triage is not None and ticket.triage.provider == "claude"
    assert (ticket.category, ticket.team) == ("shipping", "logistics")
    assert messages_stub.requests[0]["headers"]["authorization"] == "Bearer sk-from-secrets-manager"
