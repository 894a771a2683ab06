"""What a desk costs: metered usage priced from the dated price table.

Every figure states where it comes from: `measured` (counted from the calls the handlers made),
`computed` (from measured sizes by a published rule) or `estimated` (with the method given).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpdesk_tools.metering import Usage

PRICES = Path(__file__).resolve().parent / "data" / "prices.json"
MONTH_HOURS = 730


@dataclass(frozen=True)
class Line:
    """One priced figure for the whole replay."""

    service: str
    item: str
    quantity: float
    unit: str
    dollars: float
    basis: str


def load_prices(path: Path = PRICES) -> dict[str, Any]:
    """The price table; raises FileNotFoundError or ValueError for a missing or broken file."""
    prices: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for section in ("aws", "llm", "similarity_backends_idle_month", "per_seat_help_desks_month"):
        if section not in prices:
            raise ValueError(f"the price table {path} has no section {section}")
    return prices


def price_usage(
    usage: Usage,
    prices: dict[str, Any],
    *,
    memory_mb: dict[str, int],
    portal_requests: int,
    s3_bytes_stored: int,
    llm_model: str | None,
) -> list[Line]:
    """Priced lines for everything in `usage`."""
    aws = {name: entry["price"] for name, entry in prices["aws"].items()}
    lines: list[Line] = []
    for function, billed_ms in sorted(usage.lambda_billed_ms.items()):
        gb_seconds = billed_ms / 1000 * memory_mb.get(function, 128) / 1024
        invocations = usage.lambda_invocations[function]
        lines.append(
            Line(
                "Lambda",
                f"{function} ({invocations} invocations, {memory_mb.get(function, 128)} MB)",
                gb_seconds,
                "GB-s",
                gb_seconds * aws["lambda_arm64_gb_second"] + invocations * aws["lambda_request"],
                "measured locally: duration on this machine, billed per ms at the template's "
                "memory (arm64 in Lambda will differ)",
            )
        )
    lines += [
        Line(
            "API Gateway",
            "REST requests",
            portal_requests,
            "requests",
            portal_requests * aws["api_gateway_rest_request"],
            "measured: portal invocations",
        ),
        Line(
            "DynamoDB",
            "write request units",
            usage.dynamodb_write_units,
            "WRU",
            usage.dynamodb_write_units * aws["dynamodb_write_request_unit"],
            "computed from item sizes (1 KB units, GSIs, transactions x2)",
        ),
        Line(
            "DynamoDB",
            "read request units",
            usage.dynamodb_read_units,
            "RRU",
            usage.dynamodb_read_units * aws["dynamodb_read_request_unit"],
            "computed from returned sizes (4 KB units, eventual reads at half)",
        ),
        Line(
            "S3",
            "PUT requests",
            _puts(usage),
            "requests",
            _puts(usage) * aws["s3_put_request"],
            "measured",
        ),
        Line(
            "S3",
            "GET requests",
            _gets(usage),
            "requests",
            _gets(usage) * aws["s3_get_request"],
            "measured",
        ),
        Line(
            "S3",
            "storage, one month",
            s3_bytes_stored / 1e9,
            "GB-month",
            s3_bytes_stored / 1e9 * aws["s3_storage_gb_month"],
            "measured: bytes stored after the replay, kept for a month",
        ),
        Line(
            "SES",
            "mails received",
            usage.ses_mails_in,
            "mails",
            usage.ses_mails_in * aws["ses_mail_received"]
            + usage.ses_chunks_in * aws["ses_incoming_chunk"],
            f"measured: {usage.ses_chunks_in} incoming 256 KB chunks",
        ),
        Line(
            "SES",
            "mails sent",
            usage.ses_mails_out,
            "mails",
            usage.ses_mails_out * aws["ses_mail_sent"]
            + usage.ses_bytes_out / 1e9 * aws["ses_outgoing_gb"],
            "measured; the per-GB charge applied to whole messages (an overestimate: AWS "
            "charges attachments)",
        ),
        Line(
            "EventBridge",
            "custom events",
            usage.eventbridge_events,
            "events",
            usage.eventbridge_events * aws["eventbridge_custom_event"],
            "measured",
        ),
        Line(
            "SQS",
            "requests",
            usage.sqs_requests,
            "requests",
            usage.sqs_requests * aws["sqs_request"],
            "measured: the handlers' sends; the event source mapping's polling is not seen locally",
        ),
    ]
    if llm_model:
        model = prices["llm"][llm_model]
        lines.append(
            Line(
                "LLM",
                f"{llm_model} tokens in / out",
                usage.llm_input_tokens + usage.llm_output_tokens,
                "tokens",
                usage.llm_input_tokens / 1e6 * model["input_per_million"]
                + usage.llm_output_tokens / 1e6 * model["output_per_million"],
                f"estimated: {usage.llm_input_tokens} in, {usage.llm_output_tokens} out; the "
                "triage request built by the Claude triager, at 4 characters a token",
            )
        )
    return lines


def _puts(usage: Usage) -> int:
    return sum(n for op, n in usage.s3_requests.items() if op in {"PutObject", "CopyObject"})


def _gets(usage: Usage) -> int:
    return sum(n for op, n in usage.s3_requests.items() if op in {"GetObject", "HeadObject"})


def monthly(per_ticket: float, tickets: int) -> float:
    """The variable cost of `tickets` tickets a month (the desk has no fixed cost by default)."""
    return per_ticket * tickets
