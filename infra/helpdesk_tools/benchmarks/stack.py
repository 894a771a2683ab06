"""`helpdesk bench stack`: the local desk as a user meets it.

- time from the command (`helpdesk start`, a fresh process) to ready, on a warm machine: the
  first run warms the disk caches and is not counted;
- memory (resident set) of the running stack, empty and after seeding;
- mails per second from SMTP to ticket while seeding from the corpus.

Every run starts its own desk on free loopback ports in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "stack", help="local desk: time to ready, memory, seeding mails per second"
    )
    parser.add_argument("--runs", type=int, default=3, help="timed starts after one warm-up")
    parser.add_argument("--seed-count", type=int, default=400, help="mails to seed with")
    parser.add_argument("--seed", type=Path, dest="seed_path", help="corpus to seed from")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from helpdesk_tools.local.seed import corpus_root

    starts = [_start_once(seed=None) for _ in range(args.runs + 1)][1:]
    corpus = corpus_root(args.seed_path)
    seeded = _start_once(seed=corpus, count=args.seed_count) if corpus.is_dir() else None
    figures: dict[str, Any] = {
        "runs": args.runs,
        "to_listening_s": _summary([s["to_listening"] for s in starts]),
        "to_ready_s": _summary([s["to_ready"] for s in starts]),
        "in_process_ready_s": _summary([s["in_process"] for s in starts]),
        "rss_empty_mib": _summary([s["rss_mib"] for s in starts]),
        "seeded": seeded,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    _print_table(figures, corpus)
    return 0


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 2),
        "min": round(min(values), 2),
        "max": round(max(values), 2),
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _start_once(seed: Path | None, count: int = 0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="helpdesk-bench-") as state_dir:
        command = [
            sys.executable, "-m", "helpdesk_tools.cli", "start", "--fresh", "--no-persist",
            "--quiet-seed", "--state-dir", state_dir,
            "--smtp-port", str(_free_port()), "--http-port", str(_free_port()),
        ]  # fmt: skip
        command += ["--seed", str(seed), "--seed-count", str(count)] if seed else ["--no-seed"]
        began = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        lines: list[str] = []
        marks: dict[str, float] = {}
        done = threading.Event()

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if line.startswith("helpdesk is running locally"):
                    marks["listening"] = time.perf_counter() - began
                if line.startswith("ready."):
                    marks["ready"] = time.perf_counter() - began
                    done.set()
            done.set()

        threading.Thread(target=read, daemon=True).start()
        done.wait(timeout=1800)
        try:
            if "ready" not in marks:
                raise RuntimeError("the desk did not start:\n" + "".join(lines[-30:]))
            rss = _rss_mib(process.pid)
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=120)
    text = "".join(lines)
    in_process = re.search(r"ready in ([0-9.]+) s", text)
    result: dict[str, Any] = {
        "to_listening": marks["listening"],
        "to_ready": marks["ready"],
        "in_process": float(in_process.group(1)) if in_process else float("nan"),
        "rss_mib": round(rss, 1),
    }
    rate = re.search(r"mail: (\d+) delivered over SMTP, (\d+) refused, ([0-9.]+) mails/s", text)
    if rate:
        result.update(
            mails=int(rate.group(1)),
            refused=int(rate.group(2)),
            mails_per_second=float(rate.group(3)),
            tickets=_count_tickets(text),
        )
    return result


def _count_tickets(log: str) -> int:
    return len(set(re.findall(r"#(\d+) ticket opened", log)))


def _print_table(figures: dict[str, Any], corpus: Path) -> None:
    rows = [
        ("command to SMTP/HTTP listening (s)", figures["to_listening_s"]),
        ("command to ready, empty desk (s)", figures["to_ready_s"]),
        ("start() inside the process (s)", figures["in_process_ready_s"]),
        ("resident memory, empty desk (MiB)", figures["rss_empty_mib"]),
    ]
    print(f"local stack, {figures['runs']} timed starts after one warm-up (median, min-max)")
    for label, summary in rows:
        print(f"  {label:<38} {summary['median']:>8}  ({summary['min']}-{summary['max']})")
    seeded = figures["seeded"]
    if seeded is None:
        print(f"  seeding: no corpus at {corpus}")
        return
    print(
        f"  seeding from {corpus}: {seeded.get('mails', 0)} mails over SMTP "
        f"({seeded.get('refused', 0)} refused), {seeded.get('tickets', 0)} tickets opened"
    )
    print(f"  {'mails per second, SMTP to ticket':<38} {seeded.get('mails_per_second', 0):>8}")
    print(f"  {'command to ready, with seeding (s)':<38} {seeded['to_ready']:>8.1f}")
    print(f"  {'resident memory after seeding (MiB)':<38} {seeded['rss_mib']:>8}")
