"""`helpdesk mail replay`: mails in the order given, into a fresh desk, reported as JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from helpdesk_tools.cli import main

MailBuilder = Callable[..., bytes]


def test_replay_reports_tickets_rejections_and_the_acknowledgement_sent(
    tmp_path: Path,
    mail: MailBuilder,
    moto_endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "01.eml").write_bytes(mail())
    (tmp_path / "02.eml").write_bytes(
        mail(
            subject="Re: The printer is on fire",
            message_id="<second@customer.example>",
            in_reply_to="<first@customer.example>",
            body="Now it only smoulders.",
        )
    )
    (tmp_path / "03.eml").write_bytes(
        mail(
            subject="Automatic reply: out of office",
            message_id="<ooo@customer.example>",
            headers={"Auto-Submitted": "auto-replied"},
        )
    )
    (tmp_path / "04.eml").write_bytes(mail())  # the first mail again

    code = main(["mail", "replay", str(tmp_path)])

    assert code == 0
    report = json.loads(capsys.readouterr().out)
    (ticket,) = report["tickets"]
    assert (ticket["number"], ticket["requester"], ticket["status"]) == (
        1,
        "ada@customer.example",
        "open",
    )
    inbound = [m for m in ticket["messages"] if m["direction"] == "inbound"]
    assert [Path(m["file"]).name for m in inbound] == ["01.eml", "02.eml"]
    assert inbound[1]["visible_text"] == "Now it only smoulders."
    assert [(Path(r["file"]).name, r["outcome"]) for r in report["not_turned_into_messages"]] == [
        ("03.eml", "auto_reply"),
        ("04.eml", "customer"),
    ]
    (ack,) = report["sent"]
    assert ack["to"] == ["ada@customer.example"]
    assert ack["headers"]["Auto-Submitted"] == "auto-replied"
    assert ack["headers"]["In-Reply-To"] == "<first@customer.example>"
    assert ack["headers"]["Reply-To"].startswith("support+1-")


def test_replay_refuses_a_missing_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mail", "replay", "/nonexistent/mail.eml"]) == 2
