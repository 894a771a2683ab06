"""Automation rules: conditions, actions in order, cascades, the loop guard and time rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from helpdesk.automation.rules import (
    Action,
    Condition,
    Rule,
    Trigger,
    evaluate,
    next_time_check,
)
from helpdesk.domain.models import Priority, Status, Ticket

NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)


def _ticket(**fields: Any) -> Ticket:
    base: dict[str, Any] = {
        "number": 1,
        "subject": "Refund for order 42",
        "requester": "ada@example.org",
        "created_at": NOW,
        "updated_at": NOW,
    }
    base.update(fields)
    return Ticket(**base)


def test_a_rule_fires_on_its_event_when_every_condition_holds() -> None:
    rule = Rule(
        id="route-refunds",
        name="Refunds to billing",
        trigger=Trigger.CREATED,
        conditions=[Condition(field="subject", op="contains", value="refund")],
        actions=[
            Action(type="set_field", field="team", value="billing"),
            Action(type="add_tag", tag="refund"),
        ],
    )

    outcome = evaluate([rule], Trigger.CREATED, _ticket(), now=NOW)

    assert outcome.ticket.team == "billing"
    assert outcome.ticket.tags == ["refund"]
    assert outcome.fired == ["route-refunds"]
    assert outcome.changes["team"] == [None, "billing"]


def test_a_rule_does_not_fire_on_another_event_or_when_a_condition_fails() -> None:
    rule = Rule(
        id="r",
        name="r",
        trigger=Trigger.CREATED,
        conditions=[Condition(field="priority", value="urgent")],
        actions=[Action(type="add_tag", tag="x")],
    )

    assert evaluate([rule], Trigger.UPDATED, _ticket(priority=Priority.URGENT), now=NOW).fired == []
    assert evaluate([rule], Trigger.CREATED, _ticket(), now=NOW).fired == []


def test_rules_run_in_order_and_a_change_raises_events_for_later_rules() -> None:
    tag_vip = Rule(
        id="a",
        name="VIP tag",
        trigger=Trigger.CREATED,
        position=1,
        conditions=[Condition(field="requester", op="contains", value="@example.org")],
        actions=[Action(type="add_tag", tag="vip")],
    )
    escalate_vip = Rule(
        id="b",
        name="VIPs are high",
        trigger=Trigger.TAG_ADDED,
        position=2,
        conditions=[Condition(field="tag", value="vip")],
        actions=[Action(type="set_field", field="priority", value="high")],
    )

    outcome = evaluate([escalate_vip, tag_vip], Trigger.CREATED, _ticket(), now=NOW)

    assert outcome.fired == ["a", "b"]
    assert outcome.ticket.priority == Priority.HIGH


def test_two_rules_that_undo_each_other_are_stopped_by_the_loop_guard() -> None:
    up = Rule(
        id="up",
        name="high to urgent",
        trigger=Trigger.UPDATED,
        conditions=[Condition(field="priority", value="high")],
        actions=[Action(type="set_field", field="priority", value="urgent")],
    )
    down = Rule(
        id="down",
        name="urgent to high",
        trigger=Trigger.UPDATED,
        conditions=[Condition(field="priority", value="urgent")],
        actions=[Action(type="set_field", field="priority", value="high")],
    )

    outcome = evaluate([up, down], Trigger.UPDATED, _ticket(priority=Priority.HIGH), now=NOW)

    assert outcome.fired == ["up", "down"]
    assert outcome.loop_stopped == ["up"]
    assert outcome.ticket.priority == Priority.HIGH


def test_mail_notify_and_webhook_actions_become_effects_for_the_caller() -> None:
    rule = Rule(
        id="n",
        name="tell the lead",
        trigger=Trigger.SLA_BREACH,
        actions=[
            Action(type="notify", to="lead@desk.org", message="breach"),
            Action(type="webhook", url="http://127.0.0.1:9/hook"),
        ],
    )

    outcome = evaluate([rule], Trigger.SLA_BREACH, _ticket(), now=NOW)

    assert [effect.action.type for effect in outcome.effects] == ["notify", "webhook"]
    assert outcome.ticket == _ticket()


def test_pending_for_five_days_is_solved_with_a_notice_to_the_requester() -> None:
    pending_since = NOW
    ticket = _ticket(status=Status.PENDING, status_changed_at=pending_since)
    rule = Rule(
        id="close-stale",
        name="pending five days",
        trigger=Trigger.TIME,
        conditions=[
            Condition(field="status", value="pending"),
            Condition(field="hours_in_status", op="hours_at_least", value=120),
        ],
        actions=[
            Action(type="set_field", field="status", value="solved"),
            Action(type="canned_reply", canned_id="closing-notice"),
        ],
    )

    early = evaluate([rule], Trigger.TIME, ticket, now=pending_since + timedelta(hours=119))
    due = evaluate([rule], Trigger.TIME, ticket, now=pending_since + timedelta(hours=120))

    assert early.fired == []
    assert due.ticket.status == Status.SOLVED
    assert due.ticket.solved_at == pending_since + timedelta(hours=120)
    assert [e.action.canned_id for e in due.effects] == ["closing-notice"]
    assert next_time_check([rule], ticket) == pending_since + timedelta(hours=120)
    assert next_time_check([rule], _ticket()) is None
