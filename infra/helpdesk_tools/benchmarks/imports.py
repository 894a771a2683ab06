"""`helpdesk bench imports`: each handler's import time in a fresh interpreter, beside boto3's."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
FUNCTIONS = ("ingest", "triage", "sla", "portal", "automation")

# Imports the module in a fresh interpreter and prints seconds taken, interpreter start excluded.
_PROBE = """
import importlib.util, sys, time
path, name = sys.argv[1], sys.argv[2]
start = time.perf_counter()
if path == "-":
    __import__(name)
else:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
print(time.perf_counter() - start)
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "imports", help="handler import time per function, beside a bare `import boto3`"
    )
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters per target")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def targets() -> dict[str, tuple[str, str]]:
    """What to import: a bare boto3 for reference, then each function's handler module."""
    found = {"import boto3 (reference)": ("-", "boto3")}
    for name in FUNCTIONS:
        for filename in ("app.py", "sender.py"):
            path = ROOT / "functions" / name / filename
            if path.exists():
                found[f"{name}/{filename}"] = (str(path), f"{name}_{path.stem}")
    return found


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            # Nothing is called at import time; a loopback endpoint makes sure of it.
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "HELPDESK_TABLE": "bench",
            "HELPDESK_MAIL_BUCKET": "bench",
            "HELPDESK_ATTACHMENT_BUCKET": "bench",
            "POWERTOOLS_TRACE_DISABLED": "1",
            "POWERTOOLS_SERVICE_NAME": "helpdesk",
            "PYTHONDONTWRITEBYTECODE": "0",
        }
    )
    layer = str(ROOT / "layers" / "shared")
    env["PYTHONPATH"] = layer + os.pathsep + env.get("PYTHONPATH", "")
    return env


def measure(runs: int) -> dict[str, dict[str, float]]:
    """Median, min and max import seconds per target; targets interleaved run by run."""
    chosen = targets()
    samples: dict[str, list[float]] = {label: [] for label in chosen}
    env = _environment()
    for path, name in chosen.values():  # warm the bytecode caches once
        subprocess.run([sys.executable, "-c", _PROBE, path, name], env=env, capture_output=True)
    for _ in range(runs):
        for label, (path, name) in chosen.items():
            result = subprocess.run(
                [sys.executable, "-c", _PROBE, path, name],
                env=env,
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                samples[label].append(float("nan"))
                continue
            samples[label].append(float(result.stdout.strip().splitlines()[-1]))
    return {
        label: {
            "median_ms": statistics.median(values) * 1000,
            "min_ms": min(values) * 1000,
            "max_ms": max(values) * 1000,
        }
        for label, values in samples.items()
    }


def run(args: argparse.Namespace) -> int:
    figures = measure(args.runs)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"handler import time, fresh interpreter, {args.runs} runs each, interleaved")
    print(f"python {sys.version.split()[0]}")
    print(f"{'target':32} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for label, row in figures.items():
        print(f"{label:32} {row['median_ms']:10.0f} {row['min_ms']:8.0f} {row['max_ms']:8.0f}")
    return 0
