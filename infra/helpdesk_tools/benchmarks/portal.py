"""`helpdesk bench portal`: the agent routes' throughput and latency, and the cold start.

The local stack runs in this process: moto in server mode on loopback, resources from
template.yaml, and the portal function called with API Gateway REST proxy events, as the
local gateway calls it. Tickets are bulk-loaded with batch_write_item in the repository's own
item shape. Requests are sequential (one Lambda instance): requests per second is 1 / the
mean latency of one instance, not the API's capacity under concurrency.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
PORTAL_APP = ROOT / "functions" / "portal" / "app.py"
TEAMS = ("support", "billing")

_PROBE = """
import importlib.util, sys, time
path = sys.argv[1]
start = time.perf_counter()
if path == "-":
    import boto3
else:
    spec = importlib.util.spec_from_file_location("app", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
print(time.perf_counter() - start)
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "portal", help="agent routes (queue, detail, reply) at two desk sizes, and cold start"
    )
    parser.add_argument("--sizes", default="1000,50000", help="ticket counts, comma separated")
    parser.add_argument("--requests", type=int, default=200, help="requests per route and size")
    parser.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="seconds per route and size (at least 5 requests)",
    )
    parser.add_argument("--cold-runs", type=int, default=7, help="fresh interpreters per target")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.set_defaults(handler=run)


# -- cold start ----------------------------------------------------------------------------


def cold_start(runs: int) -> dict[str, dict[str, float]]:
    """Median, min and max import seconds of the portal function and of a bare boto3, each in
    fresh interpreters, interleaved run by run."""
    env = dict(os.environ)
    env.update(
        {
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "AWS_DEFAULT_REGION": "us-east-1",
            "HELPDESK_TABLE": "bench",
            "HELPDESK_MAIL_BUCKET": "bench",
            "HELPDESK_ATTACHMENT_BUCKET": "bench",
            "PYTHONPATH": str(ROOT / "layers" / "shared"),
        }
    )
    targets = {"import boto3": "-", "portal app.py": str(PORTAL_APP)}
    samples: dict[str, list[float]] = {label: [] for label in targets}
    for path in targets.values():  # warm the bytecode caches once
        subprocess.run([sys.executable, "-c", _PROBE, path], env=env, capture_output=True)
    for _ in range(runs):
        for label, path in targets.items():
            done = subprocess.run(
                [sys.executable, "-c", _PROBE, path], env=env, capture_output=True, text=True
            )
            if done.returncode != 0:
                raise RuntimeError(f"{label} failed to import: {done.stderr[-400:]}")
            samples[label].append(float(done.stdout.strip().splitlines()[-1]))
    return {
        label: {
            "median_ms": statistics.median(values) * 1000,
            "min_ms": min(values) * 1000,
            "max_ms": max(values) * 1000,
        }
        for label, values in samples.items()
    }


# -- the local stack -----------------------------------------------------------------------


class Bench:
    """A stack on a loopback moto server with the portal app, a signed-in agent and tickets."""

    def __init__(self, endpoint: str, app: Any) -> None:
        import boto3

        from helpdesk.data.config import ConfigRepository
        from helpdesk.domain.models import Agent, Role, Team
        from helpdesk.portal import context
        from helpdesk_tools.template import create_stack

        self.session = boto3.session.Session(region_name="us-east-1")
        self.stack = create_stack(self.session, prefix=f"bp{uuid.uuid4().hex[:8]}")
        os.environ.update(self.stack.environment())
        os.environ["HELPDESK_DEV_LOGIN"] = "1"
        context.reset()
        # Before any client exists: botocore copies a session's handlers into each new client.
        global _COUNTER
        _COUNTER = CallCounter()
        self.session.client("sesv2").create_email_identity(EmailIdentity="example.com")
        self.table = self.session.resource("dynamodb").Table(self.stack.tables["Table"])
        config = ConfigRepository(self.table)
        for team in TEAMS:
            config.put("teams", team, Team(id=team, name=team.title()))
        config.put(
            "agents",
            "bench",
            Agent(id="bench", email="bench@desk.example", name="Bench", role=Role.ADMIN),
        )
        self.app = app
        login = self.call("POST", "/api/auth/dev-login", body={"agent_id": "bench"})
        self.headers = {"Authorization": f"Bearer {json.loads(login['body'])['token']}"}
        self.loaded = 0

    def call(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Invoke the function with a REST proxy event; raises when it answers >= 400."""
        event = {
            "resource": "/{proxy+}",
            "path": path,
            "httpMethod": method,
            "headers": {"Content-Type": "application/json", **(headers or {})},
            "multiValueHeaders": {},
            "queryStringParameters": query,
            # Chalice reads the multi-value form, as API Gateway sends both.
            "multiValueQueryStringParameters": (
                {name: [value] for name, value in query.items()} if query else None
            ),
            "pathParameters": {"proxy": path.lstrip("/")},
            "stageVariables": None,
            "requestContext": {
                "resourcePath": "/{proxy+}",
                "httpMethod": method,
                "path": f"/api{path}",
                "stage": "api",
                "identity": {"sourceIp": "127.0.0.1"},
                "requestId": uuid.uuid4().hex,
            },
            "body": None if body is None else json.dumps(body),
            "isBase64Encoded": False,
        }
        response: dict[str, Any] = self.app(event, None)
        if response["statusCode"] >= 400:
            raise RuntimeError(f"{method} {path} answered {response['statusCode']}")
        return response

    def load(self, total: int) -> float:
        """Bring the desk to `total` tickets (each with one message); returns seconds taken."""
        from helpdesk.data.tickets import TicketRepository
        from helpdesk.domain.models import (
            Channel,
            Direction,
            Message,
            Priority,
            Ticket,
        )

        repository = TicketRepository(self.table)
        client = self.session.client("dynamodb")
        start = time.perf_counter()
        base = datetime(2026, 1, 1, tzinfo=UTC)
        priorities = list(Priority)
        items: list[dict[str, Any]] = []
        for number in range(self.loaded + 1, total + 1):
            at = base + timedelta(minutes=number)
            ticket = Ticket(
                number=number,
                subject=f"Bench ticket {number}: the printer is on fire",
                requester=f"customer{number % 997}@bench.example",
                team=TEAMS[number % len(TEAMS)],
                priority=priorities[number % len(priorities)],
                channel=Channel.EMAIL,
                created_at=at,
                updated_at=at,
                version=1,
            )
            message = Message(
                ticket_number=number,
                id=f"m{number}",
                created_at=at,
                direction=Direction.INBOUND,
                author=ticket.requester,
                text="It smokes since this morning. " * 10,
                message_id=f"<bench-{number}@bench.example>",
            )
            # NOTE: the repository's own item builders, so that the bulk load has exactly the
            # keys and index attributes that TicketRepository.create writes (no audit event,
            # to keep the load small; the detail route reads them when present).
            items += [repository._ticket_item(ticket), repository._message_item(message)]
            if len(items) >= 24:
                _batch_write(client, self.table.name, items)
                items = []
        _batch_write(client, self.table.name, items)
        self.table.put_item(Item={"PK": "COUNTER", "SK": "ticket", "value": total})
        self.loaded = total
        return time.perf_counter() - start


def _batch_write(client: Any, table: str, items: list[dict[str, Any]]) -> None:
    from boto3.dynamodb.types import TypeSerializer

    if not items:
        return
    serializer = TypeSerializer()
    requests = [
        {"PutRequest": {"Item": {k: serializer.serialize(v) for k, v in item.items()}}}
        for item in items
    ]
    for offset in range(0, len(requests), 25):
        pending = {table: requests[offset : offset + 25]}
        while pending:
            response = client.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}


class CallCounter:
    """Counts the AWS API calls the function makes (botocore's before-call event); create it
    before the function's first client."""

    def __init__(self) -> None:
        from helpdesk.data import clients

        self.calls = 0
        clients.session()._session.register("before-call", self._count)

    def _count(self, **_kwargs: Any) -> None:
        self.calls += 1


_COUNTER: CallCounter | None = None


def measure(fn: Callable[[int], Any], count: int, budget: float) -> dict[str, float]:
    """Requests per second (sequential), p50 and p99 latency in ms and AWS calls per request,
    after one warm-up call; stops after `count` requests or `budget` seconds, whichever comes
    first (at least 5)."""
    assert _COUNTER is not None, "Bench() registers the counter"
    fn(0)
    calls_before = _COUNTER.calls
    latencies: list[float] = []
    started = time.perf_counter()
    for i in range(1, count + 1):
        begin = time.perf_counter()
        fn(i)
        latencies.append(time.perf_counter() - begin)
        if len(latencies) >= 5 and time.perf_counter() - started > budget:
            break
    elapsed = time.perf_counter() - started
    count = len(latencies)
    ordered = sorted(latencies)
    return {
        "requests": count,
        "aws_calls_per_request": (_COUNTER.calls - calls_before) / count,
        "rps": count / elapsed,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
    }


def routes(bench: Bench, size: int, count: int, budget: float) -> dict[str, dict[str, float]]:
    """The main agent routes against a desk of `size` tickets."""
    step = max(1, size // (count + 5))

    def queue(i: int) -> Any:
        team = TEAMS[i % len(TEAMS)]
        return bench.call(
            "GET", "/api/agent/tickets", query={"team": team, "limit": "25"}, headers=bench.headers
        )

    def detail(i: int) -> Any:
        number = 1 + (i * step) % size
        return bench.call("GET", f"/api/agent/tickets/{number}", headers=bench.headers)

    def reply(i: int) -> Any:
        number = 1 + (i * step + step // 2) % size
        return bench.call(
            "POST",
            f"/api/agent/tickets/{number}/replies",
            body={"text": "Please unplug it and wait ten minutes."},
            headers=bench.headers,
        )

    return {
        "queue list (25, one team)": measure(queue, count, budget),
        "ticket detail": measure(detail, count, budget),
        "public reply (email, queued)": measure(reply, count, budget),
    }


def run(args: argparse.Namespace) -> int:
    from helpdesk_tools.local.aws import LocalAws

    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    cold = cold_start(args.cold_runs)
    server = LocalAws().start()
    saved = {name: os.environ.get(name) for name in _ENV}
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": server.endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
    )
    results: dict[str, Any] = {"cold_start": cold, "sizes": {}}
    try:
        bench = Bench(server.endpoint, _load_app())
        for size in sorted(sizes):
            load_seconds = bench.load(size)
            results["sizes"][str(size)] = {
                "load_seconds": load_seconds,
                "routes": routes(bench, size, args.requests, args.budget),
            }
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    _report(results, args)
    return 0


_ENV = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "POWERTOOLS_LOG_LEVEL",
    "HELPDESK_DEV_LOGIN",
)


def _load_app() -> Any:
    import importlib.util
    import logging

    logging.getLogger("helpdesk").setLevel(logging.WARNING)
    spec = importlib.util.spec_from_file_location("portal_bench_app", PORTAL_APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    logging.getLogger("helpdesk").setLevel(logging.WARNING)
    return module.app


def _report(results: dict[str, Any], args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(results, indent=2))
        return
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {os.cpu_count()} cpus, load average {load} at the end of the run")
    print(f"portal function cold start: import time, fresh interpreter, {args.cold_runs} runs")
    print(f"{'target':24} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for label, row in results["cold_start"].items():
        print(f"{label:24} {row['median_ms']:10.0f} {row['min_ms']:8.0f} {row['max_ms']:8.0f}")
    print()
    print(
        "agent routes: REST proxy events into the function, moto server on loopback, "
        f"sequential, up to {args.requests} requests or {args.budget:.0f} s per route"
    )
    print(
        f"{'tickets':>8} {'route':32} {'n':>5} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'aws calls':>9}"
    )
    for size, figures in results["sizes"].items():
        for route, row in figures["routes"].items():
            print(
                f"{size:>8} {route:32} {row['requests']:5d} {row['rps']:7.2f} "
                f"{row['p50_ms']:8.1f} {row['p99_ms']:8.1f} {row['aws_calls_per_request']:9.1f}"
            )
        print(f"{size:>8} (bulk load took {figures['load_seconds']:.1f} s)")
