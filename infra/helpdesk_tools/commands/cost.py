"""`helpdesk cost`: replay tickets through the local desk, meter every call, price the month.

Each ticket of the replay lives a realistic life: a customer mail arrives over SMTP (stored
where SES's S3 action would put it, then ingested), the desk acknowledges it, triage and the
automation consume the stream, an agent replies through the API (sent through SES), and solves
it. What the handlers call is counted by a meter on their boto3 session; Lambda time by the
local runtime; the result is priced from infra/helpdesk_tools/data/prices.json.
"""

from __future__ import annotations

import argparse
import json
import random
import smtplib
import socket
import tempfile
import time
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helpdesk_tools.costing import PRICES, Line, load_prices, monthly, price_usage
from helpdesk_tools.metering import Meter

MIXES = (1_000, 10_000, 100_000)
LLM_OUTPUT_TOKENS = 80  # a filled triage tool call: category, confidence, language, summary


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cost", help="measured cost per ticket and per month, from a replay through the local desk"
    )
    parser.add_argument("--tickets", type=int, default=100, help="tickets to replay")
    parser.add_argument(
        "--data",
        type=Path,
        help="a CSV with text and category columns (default: the Bitext set in the corpus)",
    )
    parser.add_argument("--text-column", default="instruction")
    parser.add_argument("--label-column", default="category")
    parser.add_argument("--agents", type=int, default=5, help="team size for per-seat prices")
    parser.add_argument("--llm-model", default="claude-haiku-4-5", help="price Claude triage")
    parser.add_argument("--prices", type=Path, default=PRICES)
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    prices = load_prices(args.prices)
    if args.llm_model and args.llm_model not in prices["llm"]:
        raise SystemExit(f"no price for the model {args.llm_model}; known: {list(prices['llm'])}")
    rows, source = _rows(args)
    replay = Replay(rows[: args.tickets]).run()
    usage = replay.meter.usage
    _estimate_llm(usage, replay.texts)
    lines = price_usage(
        usage,
        prices,
        memory_mb=replay.memory_mb,
        portal_requests=usage.lambda_invocations.get("PortalFunction", 0),
        s3_bytes_stored=replay.s3_bytes_stored,
        llm_model=args.llm_model,
    )
    result = _summary(lines, replay, prices, args, source)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        _print(result, lines)
    return 0


# -- the replay ---------------------------------------------------------------------------


class Replay:
    """One local desk, started for the replay and stopped after it."""

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        self.rows = rows
        self.meter = Meter()
        self.texts: list[tuple[str, str]] = []
        self.tickets = 0
        self.memory_mb: dict[str, int] = {}
        self.s3_bytes_stored = 0
        self.seconds = 0.0

    def run(self) -> Replay:
        from helpdesk.data import clients
        from helpdesk_tools.local.runtime import LocalFunction, function_specs
        from helpdesk_tools.local.stack import LocalSettings, LocalStack

        self.memory_mb = {name: spec.memory_mb for name, spec in function_specs().items()}
        clients.session_observers.append(self.meter.attach)
        LocalFunction.observers.append(self.meter.record_invocation)
        stack = LocalStack(
            LocalSettings(
                http_port=_free_port(),
                smtp_port=_free_port(),
                prefix=f"cost{uuid.uuid4().hex[:6]}",
                sla_interval=3600.0,
                state_dir=Path(tempfile.mkdtemp(prefix="helpdesk-cost-")),
            )
        )
        started = time.perf_counter()
        try:
            info = stack.start()
            self._deliver(info)
            stack.wait_idle(timeout=600)
            self._work_tickets(stack, info)
            stack.wait_idle(timeout=600)
            self.tickets = len(self._numbers(stack))
            self.s3_bytes_stored = _bytes_stored(stack)
        finally:
            self.seconds = time.perf_counter() - started
            stack.stop()
            clients.session_observers.remove(self.meter.attach)
            LocalFunction.observers.remove(self.meter.record_invocation)
        return self

    def _deliver(self, info: Any) -> None:
        from helpdesk_tools.local.seed import dataset_mails

        mails = dataset_mails(
            self.rows,
            count=len(self.rows),
            rng=random.Random(7),
            support=info.support_address,
            now=datetime.now(UTC),
        )
        with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=60) as smtp:
            for mail, (text, _category) in zip(mails, self.rows, strict=False):
                smtp.sendmail(mail.sender, [info.support_address], mail.raw)
                self.meter.record_inbound_mail(len(mail.raw))
                # SES's S3 action stores the raw mail: a PUT the account pays for.
                self.meter.usage.s3_requests["PutObject"] += 1
                self.meter.usage.s3_bytes_put += len(mail.raw)
                self.texts.append((text[:60], text))

    def _work_tickets(self, stack: Any, info: Any) -> None:
        token = _post(info.api_url + "auth/dev-login", {"agent_id": "a-1"})["token"]
        for number in self._numbers(stack):
            ticket = _get(info.api_url + f"agent/tickets/{number}", token)
            version = ticket.get("ticket", ticket).get("version")
            _post(
                info.api_url + f"agent/tickets/{number}/replies",
                {
                    "text": "Thanks for writing; this is fixed now.",
                    "version": version,
                    "status": "solved",
                },
                token,
            )

    @staticmethod
    def _numbers(stack: Any) -> list[int]:
        table = stack.session.resource("dynamodb").Table(stack.stack.tables["Table"])
        numbers: list[int] = []
        kwargs: dict[str, Any] = {
            "FilterExpression": "SK = :sk",
            "ExpressionAttributeValues": {":sk": "TICKET"},
            "ProjectionExpression": "#n",
            "ExpressionAttributeNames": {"#n": "number"},
        }
        while True:
            page = table.scan(**kwargs)
            numbers += [int(item["number"]) for item in page["Items"]]
            if "LastEvaluatedKey" not in page:
                return sorted(numbers)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _estimate_llm(usage: Any, texts: list[tuple[str, str]]) -> None:
    """Tokens the Claude triager would send: its real request, at 4 characters a token."""
    from helpdesk.ai.triage import TriageConfig, TriageInput, build_request

    config = TriageConfig()
    for subject, body in texts:
        request = build_request(TriageInput(subject, body), config, model="claude")
        characters = len(json.dumps(request, ensure_ascii=False))
        usage.llm_input_tokens += characters // 4
        usage.llm_output_tokens += LLM_OUTPUT_TOKENS


# -- output -------------------------------------------------------------------------------


def _summary(
    lines: list[Line], replay: Replay, prices: dict[str, Any], args: argparse.Namespace, source: str
) -> dict[str, Any]:
    tickets = max(1, replay.tickets)
    without_llm = sum(line.dollars for line in lines if line.service != "LLM")
    llm = sum(line.dollars for line in lines if line.service == "LLM")
    per_ticket = without_llm / tickets
    per_ticket_llm = (without_llm + llm) / tickets
    seats = prices["per_seat_help_desks_month"]
    return {
        "prices_version": prices["version"],
        "data": source,
        "tickets_replayed": replay.tickets,
        "replay_seconds": round(replay.seconds, 1),
        "per_1000_tickets": {
            "local_triage": round(per_ticket * 1000, 4),
            f"with_{args.llm_model}_triage": round(per_ticket_llm * 1000, 4),
        },
        "per_month": {
            str(n): {
                "local_triage": round(monthly(per_ticket, n), 2),
                f"with_{args.llm_model}_triage": round(monthly(per_ticket_llm, n), 2),
            }
            for n in MIXES
        },
        "idle_per_month": {
            name: entry["price"] for name, entry in prices["similarity_backends_idle_month"].items()
        },
        "per_seat_help_desks": {
            name: round(entry["per_agent"] * args.agents, 2) for name, entry in seats.items()
        },
        "flat_help_desks": {
            name: entry["price"] for name, entry in prices.get("flat_help_desks_month", {}).items()
        },
        "agents": args.agents,
        "not_observed_locally": [
            "SQS polling by the Lambda event source mapping (empty receives; AWS bills them)",
            "CloudWatch Logs ingestion and X-Ray traces",
            "Secrets Manager calls (none with the local triager)",
            "Lambda time on arm64 hardware: durations were measured on this machine",
        ],
    }


def _print(result: dict[str, Any], lines: list[Line]) -> None:
    tickets = max(1, result["tickets_replayed"])
    print(
        f"helpdesk cost: {result['tickets_replayed']} tickets replayed from {result['data']} "
        f"in {result['replay_seconds']} s; prices of {result['prices_version']}"
    )
    print()
    print(f"{'service':12} {'what':58} {'quantity':>12} {'$ per 1,000 tickets':>20}  basis")
    for line in lines:
        print(
            f"{line.service:12} {line.item[:58]:58} {line.quantity:12.2f} "
            f"{line.dollars / tickets * 1000:20.4f}  {line.basis}"
        )
    print()
    modes = list(result["per_1000_tickets"])
    print(f"{'':26}" + "".join(f"{mode:>34}" for mode in modes))
    print(
        f"{'per 1,000 tickets':26}"
        + "".join(f"{result['per_1000_tickets'][m]:>34.2f}" for m in modes)
    )
    for n, figures in result["per_month"].items():
        print(f"{int(n):>7,} tickets a month     " + "".join(f"{figures[m]:>34.2f}" for m in modes))
    print()
    print("idle cost per month of the similarity backend:")
    for name, dollars in result["idle_per_month"].items():
        print(f"  {name:32} ${dollars:,.2f}")
    print(f"per-seat help desks for {result['agents']} agents, per month:")
    for name, dollars in result["per_seat_help_desks"].items():
        print(f"  {name:32} ${dollars:,.2f}")
    for name, dollars in result["flat_help_desks"].items():
        print(f"  {name:32} ${dollars:,.2f} (flat)")
    print("not observed locally (not in the figures above):")
    for item in result["not_observed_locally"]:
        print(f"  - {item}")


# -- helpers ------------------------------------------------------------------------------


def _rows(args: argparse.Namespace) -> tuple[list[tuple[str, str]], str]:
    from helpdesk_tools.local.seed import corpus_root, read_rows

    path = args.data
    if path is None:
        folder = corpus_root() / "B" / "intent_triage" / "bitext_customer_support"
        found = sorted(folder.glob("*.csv")) if folder.is_dir() else []
        if not found:
            raise SystemExit(
                f"no data: the corpus is absent at {corpus_root()}; pass --data CSV "
                "with text and category columns"
            )
        path = found[0]
    rows = read_rows(path, args.text_column, args.label_column)
    random.Random(11).shuffle(rows)
    return rows, str(path)


def _bytes_stored(stack: Any) -> int:
    s3 = stack.session.client("s3")
    total = 0
    for bucket in stack.stack.buckets.values():
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            total += sum(int(item["Size"]) for item in page.get("Contents", []))
    return total


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _post(url: str, body: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    return _call("POST", url, body, token)


def _get(url: str, token: str) -> dict[str, Any]:
    return _call("GET", url, None, token)


def _call(method: str, url: str, body: dict[str, Any] | None, token: str | None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
        payload = response.read()
    return json.loads(payload) if payload else {}
