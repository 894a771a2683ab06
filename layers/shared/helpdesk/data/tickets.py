"""Ticket repository: tickets, their messages, audit events and threading ids in one table."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.data import keys
from helpdesk.data.items import from_item, to_item
from helpdesk.domain.models import AuditEvent, Message, Ticket
from helpdesk.exceptions import (
    ConflictError,
    DuplicateDeliveryError,
    NotFoundError,
    ValidationError,
)

logger = logging.getLogger(__name__)

MAX_PAGE = 100


@dataclass
class Thread:
    """A ticket with everything in its partition, read by one Query."""

    ticket: Ticket
    messages: list[Message] = field(default_factory=list)
    events: list[AuditEvent] = field(default_factory=list)


@dataclass
class Page:
    """One page of tickets and the opaque cursor to the next (None on the last page)."""

    tickets: list[Ticket]
    cursor: str | None


class TicketRepository:
    """Reads and writes tickets. Takes a boto3 DynamoDB Table resource from the caller."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self._client = table.meta.client

    # -- numbers --------------------------------------------------------------------------

    def next_number(self) -> int:
        """The next human ticket number, from an atomic counter (numbers never repeat)."""
        response = self._table.update_item(
            Key={"PK": "COUNTER", "SK": "ticket"},
            UpdateExpression="ADD #v :one",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["value"])

    # -- writes ---------------------------------------------------------------------------

    def create(self, ticket: Ticket, first_message: Message | None, event: AuditEvent) -> Ticket:
        """Store a new ticket with its first message and audit event in one transaction.

        Raises DuplicateDeliveryError when the message's Message-ID is already stored.
        """
        stored = ticket.model_copy(update={"version": 1})
        actions: list[dict[str, Any]] = [
            {"Put": {**self._put(self._ticket_item(stored)), **_absent()}},
            {"Put": self._put(self._event_item(event))},
        ]
        msgid_index = None
        if first_message is not None:
            actions.append({"Put": self._put(self._message_item(first_message))})
            if first_message.message_id:
                msgid_index = len(actions)
                actions.append(self._claim_message_id(first_message))
        self._transact(actions, msgid_index=msgid_index, ticket_index=0)
        logger.debug("ticket created", extra={"ticket_number": stored.number})
        return stored

    def save(
        self,
        before: Ticket,
        after: Ticket,
        events: list[AuditEvent],
        messages: list[Message] | None = None,
    ) -> Ticket:
        """Write `after` if the stored version is still `before.version`, with its audit events
        and new messages in the same transaction.

        Raises ConflictError when another writer changed the ticket first, and
        DuplicateDeliveryError when a message's Message-ID is already stored.
        """
        if after.number != before.number:
            raise ValidationError("a ticket's number cannot change", field="number")
        stored = after.model_copy(update={"version": before.version + 1})
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    **self._put(self._ticket_item(stored)),
                    "ConditionExpression": "#v = :expected",
                    "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": {":expected": before.version},
                }
            }
        ]
        actions += [{"Put": self._put(self._event_item(event))} for event in events]
        msgid_index = None
        for message in messages or []:
            actions.append({"Put": self._put(self._message_item(message))})
            if message.message_id:
                msgid_index = len(actions)
                actions.append(self._claim_message_id(message))
        self._transact(actions, msgid_index=msgid_index, ticket_index=0)
        return stored

    def update_message(self, message: Message) -> None:
        """Overwrite a stored message (its delivery state, for instance)."""
        self._table.put_item(Item=self._message_item(message))

    def index_message_id(self, message: Message, message_id: str) -> None:
        """Point one more Message-ID (the id SES gave a sent mail) at the message's ticket.

        Idempotent: writing the same alias twice leaves one item.
        """
        self._table.put_item(
            Item={
                "PK": keys.msgid_pk(message_id),
                "SK": keys.MSGID_SK,
                "entity": "msgid",
                "ticket_number": message.ticket_number,
                "message_sk": keys.message_sk(message.created_at, message.id),
            }
        )

    # -- reads ----------------------------------------------------------------------------

    def get(self, number: int) -> Ticket:
        """The ticket with this human number; raises NotFoundError."""
        item = self._table.get_item(
            Key={"PK": keys.ticket_pk(number), "SK": keys.TICKET_SK}, ConsistentRead=True
        ).get("Item")
        if item is None:
            raise NotFoundError(f"ticket {number} does not exist")
        return Ticket.model_validate(from_item(item))

    def thread(self, number: int) -> Thread:
        """The ticket, its messages (oldest first) and its audit events, by one Query."""
        items = self._query_all(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": keys.ticket_pk(number)},
            ConsistentRead=True,
        )
        ticket: Ticket | None = None
        messages: list[Message] = []
        events: list[AuditEvent] = []
        for item in items:
            sort_key = item["SK"]
            if sort_key == keys.TICKET_SK:
                ticket = Ticket.model_validate(from_item(item))
            elif sort_key.startswith("MSG#"):
                messages.append(Message.model_validate(from_item(item)))
            elif sort_key.startswith("AUDIT#"):
                events.append(AuditEvent.model_validate(from_item(item)))
        if ticket is None:
            raise NotFoundError(f"ticket {number} does not exist")
        return Thread(ticket=ticket, messages=messages, events=events)

    def find_by_message_id(self, message_id: str) -> int | None:
        """The number of the ticket that sent or received this Message-ID, or None."""
        if not keys.normalise_message_id(message_id):
            return None
        item = self._table.get_item(Key={"PK": keys.msgid_pk(message_id), "SK": keys.MSGID_SK}).get(
            "Item"
        )
        return int(item["ticket_number"]) if item else None

    def for_requester(self, email: str, *, limit: int = 50, cursor: str | None = None) -> Page:
        """A requester's tickets, newest first."""
        return self._page(
            keys.INDEX_REQUESTER,
            "GSI1PK = :pk",
            {":pk": keys.requester_pk(email)},
            limit=limit,
            cursor=cursor,
            newest_first=True,
        )

    def queue(
        self,
        team: str | None,
        status: str,
        *,
        order: str = "newest",
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """A team's tickets in one status: `newest` first, or `urgent` (priority, then due)."""
        if order not in {"newest", "urgent"}:
            raise ValidationError("order must be newest or urgent", field="order")
        by_urgency = order == "urgent"
        index = keys.INDEX_URGENCY if by_urgency else keys.INDEX_QUEUE
        partition = "GSI3PK" if by_urgency else "GSI2PK"
        return self._page(
            index,
            f"{partition} = :pk",
            {":pk": keys.queue_pk(team, status)},
            limit=limit,
            cursor=cursor,
            newest_first=not by_urgency,
        )

    def due_before(self, now: datetime, *, limit: int = 500) -> list[Ticket]:
        """Tickets with an SLA check (a warning or a deadline) due at or before `now`.

        Reads only the sparse SLA index, so the cost follows the due tickets, not the open ones.
        """
        items = self._query_all(
            IndexName=keys.INDEX_SLA_DUE,
            KeyConditionExpression="GSI4PK = :pk AND GSI4SK <= :now",
            ExpressionAttributeValues={":pk": keys.SLA_PARTITION, ":now": keys.instant(now) + "~"},
            limit=limit,
        )
        return [Ticket.model_validate(from_item(item)) for item in items]

    # -- items ----------------------------------------------------------------------------

    def ticket_item(self, ticket: Ticket) -> dict[str, Any]:
        """The item `create` and `save` write for `ticket`, index keys included (for bulk
        loads such as the SLA benchmark; normal writes go through `create` and `save`)."""
        return self._ticket_item(ticket)

    def _ticket_item(self, ticket: Ticket) -> dict[str, Any]:
        created = keys.instant(ticket.created_at)
        queue = keys.queue_pk(ticket.team, ticket.status.value)
        next_due = next_sla_check(ticket)
        due_key = keys.instant(next_due) if next_due else keys.FAR_FUTURE
        item = to_item(
            ticket,
            PK=keys.ticket_pk(ticket.number),
            SK=keys.TICKET_SK,
            entity="ticket",
            GSI1PK=keys.requester_pk(ticket.requester),
            GSI1SK=created,
            GSI2PK=queue,
            GSI2SK=created,
            GSI3PK=queue,
            GSI3SK=f"{ticket.priority.rank}#{due_key}#{created}",
        )
        if next_due is not None:
            item["GSI4PK"] = keys.SLA_PARTITION
            item["GSI4SK"] = f"{keys.instant(next_due)}#{ticket.number}"
        return item

    def _message_item(self, message: Message) -> dict[str, Any]:
        return to_item(
            message,
            PK=keys.ticket_pk(message.ticket_number),
            SK=keys.message_sk(message.created_at, message.id),
            entity="message",
        )

    def _event_item(self, event: AuditEvent) -> dict[str, Any]:
        return to_item(
            event,
            PK=keys.ticket_pk(event.ticket_number),
            SK=keys.audit_sk(event.at, uuid.uuid4().hex[:12]),
            entity="audit",
        )

    def _claim_message_id(self, message: Message) -> dict[str, Any]:
        assert message.message_id is not None
        return {
            "Put": {
                **self._put(
                    {
                        "PK": keys.msgid_pk(message.message_id),
                        "SK": keys.MSGID_SK,
                        "entity": "msgid",
                        "ticket_number": message.ticket_number,
                        "message_sk": keys.message_sk(message.created_at, message.id),
                    }
                ),
                **_absent(),
            }
        }

    def _put(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"TableName": self._table.name, "Item": item}

    # -- plumbing -------------------------------------------------------------------------

    def _transact(
        self, actions: list[dict[str, Any]], *, msgid_index: int | None, ticket_index: int
    ) -> None:
        try:
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [
                reason.get("Code") for reason in error.response.get("CancellationReasons", [])
            ]
            failed = {i for i, code in enumerate(reasons) if code == "ConditionalCheckFailed"}
            if msgid_index is not None and msgid_index in failed:
                raise DuplicateDeliveryError("this Message-ID is already stored") from error
            if ticket_index in failed or not reasons:
                raise ConflictError("the ticket changed since it was read; retry") from error
            raise

    def _query_all(self, *, limit: int | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            response = self._table.query(**kwargs)
            items.extend(response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last or (limit is not None and len(items) >= limit):
                return items[:limit] if limit is not None else items
            kwargs["ExclusiveStartKey"] = last

    def _page(
        self,
        index: str,
        condition: str,
        values: dict[str, Any],
        *,
        limit: int,
        cursor: str | None,
        newest_first: bool,
    ) -> Page:
        limit = max(1, min(limit, MAX_PAGE))
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = decode_cursor(cursor)
        response = self._table.query(**kwargs)
        tickets = [Ticket.model_validate(from_item(item)) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return Page(tickets=tickets, cursor=encode_cursor(last) if last else None)


def next_sla_check(ticket: Ticket) -> datetime | None:
    """The earliest pending warning or deadline of a ticket's running SLA clocks, or None.

    A ticket that is paused, closed or has no running clock has none, and so drops out of the
    sparse SLA index, unless an SLA notification on it still waits to be sent or a time rule
    may match it (`automation_due`, kept while the ticket is paused, dropped once closed).
    """
    waiting = [
        notice.not_before for notice in ticket.sla.notifications if notice.claimed_at is None
    ]
    if ticket.automation_due is not None and ticket.status.category.value != "closed":
        waiting.append(ticket.automation_due)
    if ticket.status.pauses_sla or ticket.status.category.value == "closed":
        return min(waiting) if waiting else None
    instants: list[datetime] = list(waiting)
    for clock in (ticket.sla.first_response, ticket.sla.next_response, ticket.sla.resolution):
        if clock.due is None or clock.met_at is not None or clock.breached_at is not None:
            continue
        if clock.warn_at is not None and clock.warned_at is None:
            instants.append(clock.warn_at)
        instants.append(clock.due)
    return min(instants) if instants else None


def encode_cursor(last_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_key, default=str).encode()).decode()


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationError("the cursor is not valid", field="cursor") from error
    if not isinstance(value, dict):
        raise ValidationError("the cursor is not valid", field="cursor")
    return value


def _absent() -> dict[str, str]:
    return {"ConditionExpression": "attribute_not_exists(PK)"}
