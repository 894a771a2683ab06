"""The `helpdesk` commands a user runs against a local desk: send, replay, tickets, outbox,
export, import, and stopping and starting again without losing the desk; and seeding on first
start."""

from __future__ import annotations

import json
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.local_desk import Desk, start_desk, stop_desk, wait_for

pytestmark = pytest.mark.slow


def helpdesk(desk: Desk, *args: str) -> subprocess.CompletedProcess[str]:
    """Run one `helpdesk` command against `desk`, as a user would in another terminal."""
    return subprocess.run(
        [sys.executable, "-m", "helpdesk_tools.cli", *args, "--state-dir", str(desk.state_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def tickets(desk: Desk) -> list[dict[str, Any]]:
    listed = helpdesk(desk, "tickets", "list", "--json", "--limit", "0")
    assert listed.returncode == 0, listed.stderr
    return [json.loads(line) for line in listed.stdout.splitlines()]


def api_subjects(desk: Desk) -> list[str]:
    """The subjects of every ticket, newest first, through the agent API (quick to poll)."""
    page = desk.api("GET", "/api/agent/tickets?status=open,pending,on_hold,solved,closed")
    return [ticket["subject"] for ticket in page["tickets"]]


def mail_file(folder: Path, subject: str, sender: str) -> Path:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{abs(hash(subject))}@example.net>"
    message.set_content(f"{subject}.\nPlease help.\n")
    path = folder / f"{abs(hash(subject))}.eml"
    # Saved with LF line ends, as mail files on disk usually are.
    path.write_bytes(message.as_bytes().replace(b"\r\n", b"\n"))
    return path


def test_a_desk_survives_stop_and_start_and_its_export_imports(
    tmp_path: Path,
) -> None:
    first = start_desk(tmp_path / "desk", "--no-seed", "--fresh")
    try:
        sent = helpdesk(
            first, "send", str(mail_file(tmp_path, "Invoice is wrong", "li@example.net"))
        )
        assert sent.returncode == 0, sent.stderr
        assert "1 sent, 0 refused" in sent.stdout
        wait_for(lambda: api_subjects(first), "the ticket from `helpdesk send`")
        wait_for(
            lambda: [m for m in first.outbox() if "li@example.net" in m["destinations"]],
            "the acknowledgement in the outbox",
        )
        (ticket,) = tickets(first)
        shown = helpdesk(first, "tickets", "show", str(ticket["number"]))
        acknowledged = [
            line
            for line in helpdesk(first, "outbox", "--json").stdout.splitlines()
            if "li@example.net" in line
        ]
        exported = helpdesk(first, "export", str(tmp_path / "desk.json"))
    finally:
        assert stop_desk(first) == 0

    assert shown.returncode == 0
    assert "Invoice is wrong" in shown.stdout and "Please help." in shown.stdout
    assert f"#{ticket['number']}" in json.loads(acknowledged[0])["subject"]
    assert exported.returncode == 0, exported.stderr
    assert (tmp_path / "desk" / "state.json").is_file()

    again = start_desk(tmp_path / "desk")  # no --fresh: continues from state.json
    try:
        assert any("restored" in line for line in again.lines)
        assert [t["subject"] for t in tickets(again)] == ["Invoice is wrong"]
        rows = tmp_path / "rows.csv"
        rows.write_text("text,category\nSecond question about my card?,card_arrival\n")
        replayed = helpdesk(again, "replay", str(rows))
        wait_for(lambda: len(api_subjects(again)) == 2, "the second ticket")
        numbers = sorted(t["number"] for t in tickets(again))
        imported = helpdesk(again, "import", str(tmp_path / "desk.json"))
        after_import = tickets(again)
    finally:
        stop_desk(again)
    assert "replayed 1 mails" in replayed.stdout
    assert numbers == [ticket["number"], ticket["number"] + 1]
    # The export holds the first ticket as it was; importing it again changes nothing else.
    assert imported.returncode == 0, imported.stderr
    assert "imported" in imported.stdout
    assert sorted(t["subject"] for t in after_import) == [
        "Invoice is wrong",
        "Second question about my card",
    ]


@pytest.mark.corpus
def test_first_start_seeds_tickets_by_mail_the_knowledge_base_and_triage(
    tmp_path: Path, corpus: Path
) -> None:
    desk = start_desk(tmp_path / "seeded", "--seed", str(corpus), "--seed-count", "12")
    try:
        seeded = tickets(desk)
        banner = "\n".join(desk.lines)
        categorised = wait_for(
            lambda: [
                ticket
                for ticket in desk.api("GET", "/api/agent/tickets?limit=50")["tickets"]
                if ticket["category"] not in (None, "other")
            ],
            "a seeded ticket triaged into one of the desk's categories",
            timeout=120,
        )
    finally:
        stop_desk(desk)

    assert "knowledge base: 213 articles" in banner
    assert "triage: 220 labelled examples" in banner
    assert "mails/s from SMTP to ticket" in banner
    # Eleven data-set queries and one real customer mail of corpus A.
    assert len(seeded) >= 11
    assert len({t["requester"] for t in seeded}) > 5
    assert categorised[0]["category"] in {
        "account", "cancellation_fee", "contact", "delivery", "feedback", "invoice", "newsletter",
        "order", "payment", "refund", "shipping_address",
    }  # fmt: skip
