"""The agents' queue: filters, orders and cursor pages that lose and repeat nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from helpdesk.domain.models import Channel, Priority, Status
from tests.integration.portal.support import Desk

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _numbers(page: dict) -> list[int]:
    return [ticket["number"] for ticket in page["tickets"]]


def test_cursor_pages_walk_the_whole_queue_newest_first(desk: Desk) -> None:
    made = [desk.ticket(f"c{i}@x.example", at=T0 + timedelta(minutes=i)).number for i in range(7)]
    desk.ticket("other@x.example", team="billing")
    bob = desk.agent("bob")

    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        query = "/api/agent/tickets?team=support&limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = desk.get(query, headers=bob).json_body
        seen += _numbers(page)
        pages += 1
        cursor = page["cursor"]
        if not cursor:
            break

    assert seen == list(reversed(made))
    assert pages == 3


def test_without_a_team_the_queue_merges_every_team(desk: Desk) -> None:
    a = desk.ticket("a@x.example", team="support", at=T0)
    b = desk.ticket("b@x.example", team="billing", at=T0 + timedelta(minutes=1))
    c = desk.ticket("c@x.example", team=None, at=T0 + timedelta(minutes=2))

    page = desk.get("/api/agent/tickets?limit=2", headers=desk.agent("bob")).json_body
    rest = desk.get(
        f"/api/agent/tickets?limit=2&cursor={page['cursor']}", headers=desk.agent("bob")
    ).json_body

    assert _numbers(page) + _numbers(rest) == [c.number, b.number, a.number]
    assert rest["cursor"] is None


def test_filters_apply_on_the_server_while_paging(desk: Desk) -> None:
    wanted = []
    for i in range(9):
        urgent = i % 3 == 0
        ticket = desk.ticket(
            f"c{i}@x.example",
            priority=Priority.URGENT if urgent else Priority.LOW,
            tags=["vip"] if urgent else [],
            at=T0 + timedelta(minutes=i),
        )
        if urgent:
            wanted.append(ticket.number)
    bob = desk.agent("bob")

    first = desk.get("/api/agent/tickets?team=support&priority=urgent&limit=2", headers=bob)
    second = desk.get(
        f"/api/agent/tickets?team=support&priority=urgent&limit=2&cursor={first.json_body['cursor']}",
        headers=bob,
    )
    tagged = desk.get("/api/agent/tickets?tag=vip", headers=bob).json_body

    assert _numbers(first.json_body) + _numbers(second.json_body) == list(reversed(wanted))
    assert second.json_body["cursor"] is None
    assert sorted(_numbers(tagged)) == sorted(wanted)


def test_text_channel_status_and_assignee_filters(desk: Desk) -> None:
    printer = desk.ticket("p@x.example", subject="Printer jam on floor 3")
    chat = desk.ticket("q@x.example", subject="Login", channel=Channel.CHAT)
    pending = desk.ticket("r@x.example", subject="Waiting", status=Status.PENDING)
    bob = desk.agent("bob")
    desk.patch(f"/api/agent/tickets/{chat.number}", {"version": 1, "assignee": "bob"}, headers=bob)

    by_text = desk.get("/api/agent/tickets?q=printer", headers=bob).json_body
    by_channel = desk.get("/api/agent/tickets?channel=chat", headers=bob).json_body
    by_status = desk.get("/api/agent/tickets?status=pending", headers=bob).json_body
    mine = desk.get("/api/agent/tickets?assignee=me", headers=bob).json_body
    nobody = desk.get("/api/agent/tickets?assignee=none", headers=bob).json_body

    assert _numbers(by_text) == [printer.number]
    assert _numbers(by_channel) == [chat.number]
    assert _numbers(by_status) == [pending.number]
    assert _numbers(mine) == [chat.number]
    assert _numbers(nobody) == [printer.number]


def test_priority_order_puts_urgent_first_and_updated_order_follows_changes(desk: Desk) -> None:
    low = desk.ticket("a@x.example", priority=Priority.LOW, at=T0)
    urgent = desk.ticket("b@x.example", priority=Priority.URGENT, at=T0 + timedelta(minutes=1))
    normal = desk.ticket("c@x.example", priority=Priority.NORMAL, at=T0 + timedelta(minutes=2))
    bob = desk.agent("bob")
    desk.post(f"/api/agent/tickets/{low.number}/notes", {"text": "touched"}, headers=bob)

    by_priority = desk.get("/api/agent/tickets?sort=priority", headers=bob).json_body
    by_updated = desk.get("/api/agent/tickets?sort=updated&limit=1", headers=bob).json_body

    assert _numbers(by_priority) == [urgent.number, normal.number, low.number]
    assert _numbers(by_updated) == [low.number]
    assert by_updated["cursor"] is not None


def test_a_bad_filter_value_names_the_field(desk: Desk) -> None:
    response = desk.get("/api/agent/tickets?priority=sometimes", headers=desk.agent("bob"))

    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "priority"


def test_a_cursor_from_another_query_is_refused(desk: Desk) -> None:
    for i in range(3):
        desk.ticket(f"c{i}@x.example")
    bob = desk.agent("bob")
    cursor = desk.get("/api/agent/tickets?limit=1", headers=bob).json_body["cursor"]

    response = desk.get(f"/api/agent/tickets?limit=1&status=pending&cursor={cursor}", headers=bob)

    assert response.status_code == 400
    assert response.json_body["error"]["field"] == "cursor"
