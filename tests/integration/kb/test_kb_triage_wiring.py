"""The triage pipeline hands a new ticket to the first responder, and a customer's reply
hands an AI-answered ticket back to a person."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from helpdesk.ai.embed import OnnxEmbedder
from helpdesk.ai.grouping import Thresholds
from helpdesk.ai.index import EmbeddedIndex
from helpdesk.ai.pipeline import Pipeline
from helpdesk.ai.triage import Example, LocalTriager, TriageConfig
from helpdesk.data.tickets import TicketRepository
from helpdesk.domain.models import Direction, Message, MessageKind, Status
from helpdesk.kb.responder import ResponderService
from tests.integration.kb.conftest import OPENED, open_ticket

NOW = OPENED + timedelta(minutes=1)

CONFIG = TriageConfig(
    categories=["login", "billing"],
    routing={"login": "support", "billing": "support"},
    examples=[
        Example(text="I cannot log in to my account", category="login"),
        Example(text="My password reset link does not work", category="login"),
        Example(text="I was charged twice for my order", category="billing"),
        Example(text="Please refund the duplicate payment", category="billing"),
    ],
)
_SERIALIZER = TypeSerializer()


def _record(item: dict[str, Any], event_name: str = "INSERT") -> dict[str, Any]:
    image = {name: _SERIALIZER.serialize(value) for name, value in item.items()}
    keys = {"PK": image["PK"], "SK": image["SK"]}
    return {"eventName": event_name, "dynamodb": {"Keys": keys, "NewImage": image}}


def _pipeline(table: Any, embedder: OnnxEmbedder, service: ResponderService) -> Pipeline:
    return Pipeline(
        tickets=TicketRepository(table),
        index=EmbeddedIndex(embedder.dimension),
        embedder=embedder,
        triager=LocalTriager(embedder, CONFIG),
        publisher=None,
        thresholds=Thresholds(),
        window=timedelta(days=14),
        incident_requester="support@desk.example.com",
        responder=service,
    )


def test_a_new_ticket_the_knowledge_base_covers_is_triaged_then_answered(
    kb_table: Any, embedder: OnnxEmbedder, service: ResponderService
) -> None:
    pipeline = _pipeline(kb_table, embedder, service)
    number = open_ticket(kb_table)
    item = kb_table.get_item(Key={"PK": f"TICKET#{number}", "SK": "TICKET"})["Item"]

    pipeline.process_record(_record(item), now=NOW)

    thread = TicketRepository(kb_table).thread(number)
    assert thread.ticket.category == "login"
    assert thread.ticket.status == Status.PENDING
    assert any(m.ai_generated and m.direction == Direction.OUTBOUND for m in thread.messages)


def test_the_customer_answering_an_ai_reply_hands_the_ticket_back(
    kb_table: Any, embedder: OnnxEmbedder, service: ResponderService
) -> None:
    pipeline = _pipeline(kb_table, embedder, service)
    number = open_ticket(kb_table)
    ticket_item = kb_table.get_item(Key={"PK": f"TICKET#{number}", "SK": "TICKET"})["Item"]
    pipeline.process_record(_record(ticket_item), now=NOW)
    reply = Message(
        ticket_number=number,
        id="customer-reply",
        created_at=NOW + timedelta(minutes=10),
        direction=Direction.INBOUND,
        kind=MessageKind.PUBLIC_REPLY,
        author="ana@customer.example",
        text="That did not help, the link never arrives.",
        visible_text="That did not help, the link never arrives.",
    )
    repo = TicketRepository(kb_table)
    current = repo.get(number)
    repo.save(current, current, [], [reply])
    stored = kb_table.query(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :msg)",
        ExpressionAttributeValues={":pk": f"TICKET#{number}", ":msg": "MSG#"},
    )["Items"]
    reply_item = next(i for i in stored if i["id"] == "customer-reply")

    pipeline.process_record(_record(reply_item), now=NOW + timedelta(minutes=10))

    assert repo.get(number).status == Status.OPEN
