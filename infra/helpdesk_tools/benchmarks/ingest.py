"""`helpdesk bench ingest`: mails per second through one ingest handler, and its peak memory.

Each mail is stored in the mail bucket first (the SES S3 action's work, not timed); the timed
part is the handler call: reading the raw mail from S3, parsing, threading and the DynamoDB
writes. The moto server runs in a child process on 127.0.0.1, so that the memory measured here
is the handler's, not moto's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SERVER = (
    "import sys, time\n"
    "from helpdesk_tools.local.aws import LocalAws\n"
    "server = LocalAws().start()\n"
    "print(server.endpoint, flush=True)\n"
    "sys.stdin.read()\n"
    "server.stop()\n"
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "ingest", help="mails per second through the ingest handler against local moto"
    )
    parser.add_argument(
        "paths", nargs="*", type=Path, help="mail files or folders (default: corpus A)"
    )
    parser.add_argument(
        "--acknowledge", action="store_true", help="queue acknowledgements too (off by default)"
    )
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="also trace Python allocations (tracemalloc; slows the handler, so timed apart)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; returns 0, or 2 when there is no mail to deliver."""
    from helpdesk_tools.ingest_desk import mail_files

    paths = list(args.paths)
    if not paths:
        corpus = Path(
            os.environ.get(
                "HELPDESK_CORPUS", Path(__file__).resolve().parents[3].parent / "shared/corpus"
            )
        )
        if not (corpus / "A").is_dir():
            print(f"no mail given and no corpus at {corpus} (set HELPDESK_CORPUS)", file=sys.stderr)
            return 2
        paths = [corpus / "A"]
    files = mail_files(paths)
    if not files:
        print("no mail files found", file=sys.stderr)
        return 2

    with contextlib.redirect_stdout(sys.stderr), _moto_child() as endpoint:
        report = measure(files, endpoint=endpoint, acknowledge=args.acknowledge)
        if args.trace_memory:
            report["peak_traced_mib"] = measure(
                files, endpoint=endpoint, acknowledge=args.acknowledge, trace=True
            )["peak_traced_mib"]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, value in report.items():
            print(f"{name:28} {value}")
    return 0


@contextlib.contextmanager
def _moto_child() -> Iterator[str]:
    saved = dict(os.environ)
    child = subprocess.Popen(
        [sys.executable, "-c", _SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        endpoint = child.stdout.readline().strip()
        if not endpoint.startswith("http://127.0.0.1:"):
            raise RuntimeError("the local moto server did not start")
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench",
                "AWS_SESSION_TOKEN": "bench",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_REGION": "us-east-1",
                "POWERTOOLS_LOG_LEVEL": "ERROR",
            }
        )
        yield endpoint
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(timeout=5)
        os.environ.clear()
        os.environ.update(saved)


def measure(
    files: list[Path], *, endpoint: str, acknowledge: bool, trace: bool = False
) -> dict[str, Any]:
    """Deliver `files` once each into a fresh desk and time the handler calls; with `trace`,
    Python allocations are traced too (which slows every call)."""
    import uuid

    import boto3

    from helpdesk.mail.events import lambda_action_event
    from helpdesk_tools.ingest_desk import (
        FakeLambdaContext,
        LocalIngestDesk,
        reset_cached_wiring,
    )

    os.environ["HELPDESK_SEND_ACKNOWLEDGEMENT"] = "true" if acknowledge else "false"
    desk = LocalIngestDesk(boto3.session.Session())
    reset_cached_wiring()
    bucket = desk.stack.buckets["MailBucket"]
    raws = [path.read_bytes() for path in files]
    now = datetime.now(UTC)

    # Warm up: imports, clients and the first connection are not part of the figure.
    warm = uuid.uuid4().hex
    desk.s3.put_object(Bucket=bucket, Key=f"inbound/{warm}", Body=raws[0])
    desk.ingest.handler(
        lambda_action_event(warm, recipients=[desk.support_address], received_at=now),
        FakeLambdaContext(),
    )

    timings: list[float] = []
    outcomes: Counter[str] = Counter()
    if trace:
        tracemalloc.start()
    for raw in raws:
        ses_id = uuid.uuid4().hex
        desk.s3.put_object(Bucket=bucket, Key=f"inbound/{ses_id}", Body=raw)
        event = lambda_action_event(ses_id, recipients=[desk.support_address], received_at=now)
        start = time.perf_counter()
        response = desk.ingest.handler(event, FakeLambdaContext())
        timings.append(time.perf_counter() - start)
        outcomes.update(result["disposition"] for result in response["results"])
    peak = tracemalloc.get_traced_memory()[1] if trace else 0
    tracemalloc.stop()

    from helpdesk.mail.parse import parse_mail

    parse_start = time.perf_counter()
    for raw in raws:
        parse_mail(raw, received_at=now)
    parse_seconds = time.perf_counter() - parse_start

    total = sum(timings)
    ordered = sorted(timings)
    return {
        "mails": len(timings),
        "handler_seconds": round(total, 2),
        "mails_per_second": round(len(timings) / total, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "parse_only_seconds": round(parse_seconds, 2),
        "peak_traced_mib": round(peak / 2**20, 1) if trace else None,
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "acknowledgements": acknowledge,
        "dispositions": dict(sorted(outcomes.items())),
    }
