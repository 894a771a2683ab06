"""`helpdesk bench coldstart`: each function's cold start, as import plus initialisation.

For every function a fresh interpreter imports the handler (import), then handles a real event
against a local endpoint (the first invocation pays for settings, clients, models), then a
second event of the same kind (warm). Initialisation is the first invocation minus the warm
one. The events are built the way the local stack builds them, from real tickets and mail.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]

_PROBE = """
import importlib.util, json, sys, time
path, name, attribute, events_file = sys.argv[1:5]
events = json.loads(open(events_file).read())
class Context:
    function_name = name; memory_limit_in_mb = 512; aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + name
    def get_remaining_time_in_millis(self): return 30000
start = time.perf_counter()
spec = importlib.util.spec_from_file_location(name, path)
module = importlib.util.module_from_spec(spec)
sys.modules[name] = module
spec.loader.exec_module(module)
imported = time.perf_counter()
handler = getattr(module, attribute)
timings = []
for event in events:
    t0 = time.perf_counter()
    handler(event, Context())
    timings.append(time.perf_counter() - t0)
print(json.dumps({"import": imported - start, "first": timings[0], "warm": timings[1]}))
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "coldstart", help="import plus initialisation of each function in a fresh process"
    )
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per function")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import boto3

    from helpdesk_tools.local.aws import LocalAws
    from helpdesk_tools.local.runtime import function_environment, function_specs
    from helpdesk_tools.template import create_stack

    aws = LocalAws().start()
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": aws.endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    try:
        session = boto3.session.Session(region_name="us-east-1")
        stack = create_stack(session, prefix="coldstart")
        session.client("sesv2").create_email_identity(EmailIdentity="example.com")
        environment = {
            **os.environ,
            **function_environment(stack, aws.endpoint, "example.com"),
            "HELPDESK_DEV_LOGIN": "1",
            "PYTHONPATH": str(ROOT / "layers" / "shared"),
        }
        events = _Events(session, stack)
        specs = function_specs()
        results: dict[str, list[dict[str, float]]] = {}
        with tempfile.TemporaryDirectory() as folder:
            for _ in range(args.runs):
                for logical_id, make in events.makers().items():
                    spec = specs[logical_id]
                    path = Path(folder) / f"{logical_id}.json"
                    path.write_text(json.dumps(make()), encoding="utf-8")
                    probe = subprocess.run(
                        [
                            sys.executable,
                            "-c",
                            _PROBE,
                            str(spec.code_dir / f"{spec.module}.py"),
                            f"bench_{logical_id.lower()}",
                            spec.attribute,
                            str(path),
                        ],
                        env=environment,
                        capture_output=True,
                        text=True,
                        timeout=300,
                    )
                    if probe.returncode != 0:
                        print(f"{logical_id} failed: {probe.stderr.strip().splitlines()[-1:]}")
                        continue
                    results.setdefault(logical_id, []).append(
                        json.loads(probe.stdout.strip().splitlines()[-1])
                    )
    finally:
        aws.stop()
    _print(results, args.runs)
    return 0


def _print(results: dict[str, list[dict[str, float]]], runs: int) -> None:
    print(f"cold start per function: fresh interpreter, median of {runs} runs, milliseconds")
    columns = ("import", "first call", "warm call", "init", "cold")
    print(f"{'function':20}" + "".join(f" {column:>10}" for column in columns))
    for name, samples in results.items():
        imported = statistics.median(s["import"] for s in samples) * 1000
        first = statistics.median(s["first"] for s in samples) * 1000
        warm = statistics.median(s["warm"] for s in samples) * 1000
        init = max(0.0, first - warm)
        figures = (imported, first, warm, init, imported + init)
        print(f"{name:20}" + "".join(f" {figure:10.0f}" for figure in figures))
    print("cold = import + init (first call minus warm call); Lambda adds its own sandbox start")


class _Events:
    """Real events for each function, fresh ones per run."""

    def __init__(self, session: Any, stack: Any) -> None:
        self._session = session
        self._stack = stack
        self._count = 0

    def makers(self) -> dict[str, Any]:
        return {
            "IngestFunction": lambda: [self._ses_event(), self._ses_event()],
            "TriageFunction": lambda: [self._stream_event(), self._stream_event()],
            "AutomationFunction": lambda: [self._stream_event(), self._stream_event()],
            "SlaFunction": lambda: [_schedule(), _schedule()],
            "PortalFunction": lambda: [self._portal_event(), self._portal_event()],
        }

    def _ses_event(self) -> dict[str, Any]:
        from helpdesk_tools.local.events import ses_lambda_event, ses_message_id

        self._count += 1
        message = EmailMessage()
        message["From"] = f"Customer {self._count} <customer{self._count}@example.org>"
        message["To"] = "support@example.com"
        message["Subject"] = f"My order {self._count} has not arrived"
        message["Message-ID"] = make_msgid(domain="example.org")
        message.set_content("Hello,\n\nmy order has not arrived yet. Can you help?\n\nThanks\n")
        raw = message.as_bytes()
        message_id = ses_message_id()
        self._session.client("s3").put_object(
            Bucket=self._stack.buckets["MailBucket"], Key=f"inbound/{message_id}", Body=raw
        )
        return ses_lambda_event(
            raw=raw,
            message_id=message_id,
            envelope_from=f"customer{self._count}@example.org",
            recipients=["support@example.com"],
            now=datetime.now(UTC),
            function_arn="arn:aws:lambda:us-east-1:123456789012:function:ingest",
        )

    def _stream_event(self) -> dict[str, Any]:
        from helpdesk.data.tickets import TicketRepository
        from helpdesk.domain.models import AuditEvent, Direction, Message, Ticket
        from helpdesk_tools.local.events import stream_record

        table = self._session.resource("dynamodb").Table(self._stack.tables["Table"])
        repository = TicketRepository(table)
        number = repository.next_number()
        now = datetime.now(UTC)
        ticket = Ticket(
            number=number,
            subject="Refund for a double charge",
            requester=f"payer{number}@example.org",
            created_at=now,
            updated_at=now,
        )
        message = Message(
            ticket_number=number,
            id=f"m{number}",
            created_at=now,
            direction=Direction.INBOUND,
            author=ticket.requester,
            text="I was charged twice for my order; please refund one payment.",
            visible_text="I was charged twice for my order; please refund one payment.",
        )
        repository.create(
            ticket, message, AuditEvent(ticket_number=number, at=now, actor="x", action="created")
        )
        streams = self._session.client("dynamodbstreams")
        arn = self._session.client("dynamodb").describe_table(TableName=table.name)["Table"][
            "LatestStreamArn"
        ]
        records = []
        for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                page = streams.get_records(ShardIterator=iterator)
                records += page["Records"]
                iterator = page.get("NextShardIterator") if page["Records"] else None
        wanted = [
            stream_record(r, arn)
            for r in records
            if r["eventName"] == "INSERT"
            and r["dynamodb"]["Keys"]["PK"]["S"] == f"TICKET#{number}"
            and r["dynamodb"]["Keys"]["SK"]["S"] == "TICKET"
        ]
        return {"Records": wanted}

    def _portal_event(self) -> dict[str, Any]:
        from helpdesk.data.config import ConfigRepository
        from helpdesk.domain.models import Agent, Role
        from helpdesk_tools.local.events import api_gateway_event

        table = self._session.resource("dynamodb").Table(self._stack.tables["Table"])
        ConfigRepository(table).put(
            "agents", "a-1", Agent(id="a-1", email="a1@example.com", name="A", role=Role.ADMIN)
        )
        return api_gateway_event(
            method="POST",
            path="/api/auth/dev-login",
            query=[],
            headers=[("content-type", "application/json")],
            body=b'{"agent_id": "a-1"}',
            source_ip="127.0.0.1",
            now=datetime.now(UTC),
        )


def _schedule() -> dict[str, Any]:
    from helpdesk_tools.local.events import schedule_event

    return schedule_event(datetime.now(UTC))
