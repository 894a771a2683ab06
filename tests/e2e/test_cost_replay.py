"""`helpdesk cost` counts what a small replay must have used, call by call."""

from __future__ import annotations

from helpdesk_tools.commands.cost import Replay
from helpdesk_tools.costing import load_prices, price_usage

ROWS = [
    ("I want to cancel my order 1234 please", "ORDER"),
    ("How do I change the address on my account?", "ACCOUNT"),
]


def test_a_two_ticket_replay_counts_each_mail_function_call_and_unit() -> None:
    replay = Replay(ROWS).run()
    usage = replay.meter.usage

    assert replay.tickets == 2
    # Two mails in, each one ingest invocation and one raw object stored by SES's S3 action.
    assert usage.ses_mails_in == 2
    assert usage.ses_chunks_in == 2
    assert usage.lambda_invocations["IngestFunction"] == 2
    # Out: an acknowledgement and an agent's reply per ticket, each sent through SES once.
    assert usage.ses_mails_out == 4
    # The agent: one dev login, then per ticket one read and one reply-and-solve.
    assert usage.lambda_invocations["PortalFunction"] == 1 + 2 * 2
    assert usage.lambda_billed_ms["PortalFunction"] >= 5
    assert usage.s3_requests["PutObject"] >= 2
    # Rules and report counters consume the same stream as triage.
    assert usage.lambda_invocations["AutomationFunction"] >= 1
    assert usage.dynamodb_write_units > 0 and usage.dynamodb_read_units > 0
    lines = price_usage(
        usage,
        load_prices(),
        memory_mb=replay.memory_mb,
        portal_requests=usage.lambda_invocations["PortalFunction"],
        s3_bytes_stored=replay.s3_bytes_stored,
        llm_model=None,
    )
    ses_in = next(line for line in lines if line.item == "mails received")
    assert round(ses_in.dollars, 6) == round(2 * 0.0001 + 2 * 0.00009, 6)
    assert all(line.service != "LLM" for line in lines)
