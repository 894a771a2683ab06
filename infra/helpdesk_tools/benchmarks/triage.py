"""`helpdesk bench triage`: what triage costs per ticket on one core, and the index at scale.

The process pins itself to one CPU and runs onnxruntime with one intra-op thread, so the
figures are what a Lambda with one vCPU's worth of compute sees (1,769 MB and below):

- cold start: a fresh interpreter imports the embedder, loads the int8 model and embeds one
  text (median of `--cold-runs` runs);
- per ticket (median and p95 over `--tickets` ticket-length texts): embed (the subject + body
  and the subject alone, as the pipeline does), search (the embedded index at 10k entries with
  the pipeline's status and age filters), classify (the local triager: softmax over 77
  categories, the similarity floor against 10k examples, the rules);
- the embedded index at 1k, 10k and 100k vectors: median query time without and with filters,
  the stored (float16, compressed) size, and the time to load it back (a cold start's read).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from helpdesk.ai.classify import SoftmaxClassifier
from helpdesk.ai.embed import OnnxEmbedder, ticket_vectors
from helpdesk.ai.index import EmbeddedIndex, Range
from helpdesk.ai.triage import LocalTriager, TriageConfig, TriageInput

DIMENSION = 384
NOW = 1_780_000_000.0
_SENTENCES = [
    "Since this morning the checkout page shows an error when I press the pay button.",
    "I have tried two different browsers and cleared the cache, but nothing changed.",
    "Our team of twelve people depends on the export to send invoices to customers.",
    "The last time this happened your colleague told me to reinstall the app.",
    "My card was charged but the order still shows as pending in my account.",
    "Could you please tell me when the parcel will arrive or how I can track it?",
    "I cannot log in because the two-factor code never reaches my phone.",
    "The invoice for March lists a subscription that we cancelled in January.",
    "Please let me know whether I need to send you screenshots or log files.",
    "We are on the business plan and were promised a response within four hours.",
]
_SUBJECTS = [
    "Checkout fails at payment",
    "Charged but order pending",
    "Two-factor code not arriving",
    "Wrong subscription on invoice",
    "Where is my parcel?",
]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("triage", help="triage latency per ticket on one core")
    parser.add_argument("--tickets", type=int, default=40, help="tickets for per-step latency")
    parser.add_argument("--sizes", default="1000,10000,100000", help="index sizes to query")
    parser.add_argument("--queries", type=int, default=50, help="queries per index size")
    parser.add_argument("--cold-runs", type=int, default=3, help="fresh interpreters to time")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the tables; returns 0."""
    core = _pin_to_one_core()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"pinned to CPU {core}; onnxruntime intra-op threads = 1; load average {load}")

    cold = [_cold_start() for _ in range(args.cold_runs)]
    print("\n| cold start (fresh interpreter) | median ms |")
    print("|---|---|")
    for key, label in (
        ("import", "import embedder module"),
        ("load", "load tokenizer + int8 model"),
        ("first", "first embedding"),
    ):
        print(f"| {label} | {statistics.median(run[key] for run in cold):.0f} |")

    embedder = OnnxEmbedder(threads=1, batch_size=8)
    embedder.load()
    rng = np.random.default_rng(3)
    tickets = [_ticket(rng) for _ in range(args.tickets)]
    index = _index(10_000, rng)
    triager = _triager(embedder, rng)
    filters = {"status_category": ["open", "pending"], "created_at": Range(gte=NOW - 14 * 86400)}

    embed_ms, search_ms, classify_ms = [], [], []
    tokens = []
    for subject, body in tickets:
        tokens.append(len(embedder._tokenizer.encode(f"{subject}\n\n{body}").ids))
        (full, search), ms = _timed(ticket_vectors, embedder, [subject], [body])
        embed_ms.append(ms)
        _, ms = _timed(index.query, search[0], k=10, filters=filters)
        search_ms.append(ms)
        _, ms = _timed(triager.triage, TriageInput(subject, body), full[0])
        classify_ms.append(ms)
    print(f"\n{len(tickets)} tickets, median {statistics.median(tokens):.0f} tokens each")
    print("| step, per ticket | min ms | median ms | p95 ms |")
    print("|---|---|---|---|")
    for label, values in (
        ("embed (subject + body, and subject)", embed_ms),
        ("search (10k entries, status + age filter)", search_ms),
        ("classify (softmax, 77 categories, rules)", classify_ms),
        ("total", [a + b + c for a, b, c in zip(embed_ms, search_ms, classify_ms, strict=True)]),
    ):
        print(
            f"| {label} | {min(values):.1f} | {statistics.median(values):.1f} | "
            f"{_p95(values):.1f} |"
        )

    print(
        "\n| index size | query ms, no filter (min / median) | filtered (min / median) "
        "| stored MB | load ms |"
    )
    print("|---|---|---|---|---|")
    for size in (int(part) for part in args.sizes.split(",") if part.strip()):
        big = _index(size, rng)
        queries = _unit(rng.standard_normal((args.queries, DIMENSION)))
        big.query(queries[0], k=10, filters=filters)
        plain = [_timed(big.query, q, k=10)[1] for q in queries]
        filtered = [_timed(big.query, q, k=10, filters=filters)[1] for q in queries]
        stored = big.to_bytes()
        _, load_ms = _timed(EmbeddedIndex.from_bytes, stored)
        print(
            f"| {size:,} | {min(plain):.2f} / {statistics.median(plain):.2f} | "
            f"{min(filtered):.2f} / {statistics.median(filtered):.2f} | "
            f"{len(stored) / 1e6:.1f} | {load_ms:.0f} |"
        )
    print(f"\nload average at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(
        "filtered queries rebuild their metadata columns after every write; the figure is for "
        "a query after the first (columns cached). Other processes share the pinned core: "
        "min is the least disturbed run, median what a busy machine gives."
    )
    return 0


def _pin_to_one_core() -> int:
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {allowed[0]})
    return allowed[0]


def _cold_start() -> dict[str, float]:
    code = (
        "import json, time\n"
        "t0 = time.perf_counter()\n"
        "from helpdesk.ai.embed import OnnxEmbedder\n"
        "t1 = time.perf_counter()\n"
        "e = OnnxEmbedder(threads=1); e.load()\n"
        "t2 = time.perf_counter()\n"
        "e.embed(['My card was charged but the order still shows as pending.'])\n"
        "t3 = time.perf_counter()\n"
        "print(json.dumps({'import': (t1-t0)*1e3, 'load': (t2-t1)*1e3, 'first': (t3-t2)*1e3}))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def _ticket(rng: np.random.Generator) -> tuple[str, str]:
    picks = rng.choice(len(_SENTENCES), size=6, replace=False)
    body = "Hello,\n\n" + " ".join(_SENTENCES[i] for i in picks) + "\n\nThanks, Ada"
    return _SUBJECTS[int(rng.integers(len(_SUBJECTS)))], body


def _index(size: int, rng: np.random.Generator) -> EmbeddedIndex:
    index = EmbeddedIndex(DIMENSION)
    vectors = _unit(rng.standard_normal((size, DIMENSION)))
    states = np.array(["open", "pending", "closed"])[rng.integers(0, 3, size)]
    ages = rng.uniform(0, 60 * 86400, size)
    for i in range(size):
        index.upsert(
            str(i),
            vectors[i],
            {"number": i, "status_category": str(states[i]), "created_at": int(NOW - ages[i])},
        )
    return index


def _triager(embedder: OnnxEmbedder, rng: np.random.Generator) -> LocalTriager:
    examples = _unit(rng.standard_normal((10_000, DIMENSION)))
    labels = [f"category_{i % 77}" for i in range(10_000)]
    weights = rng.standard_normal((DIMENSION + 1, 77)).astype(np.float32) * 0.1
    classifier = SoftmaxClassifier(sorted(set(labels)), weights)
    triager = LocalTriager(embedder, TriageConfig(categories=sorted(set(labels))))
    triager.use_classifier(classifier, examples)
    return triager


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = matrix.astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def _timed(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call(*args, **kwargs)
    return result, (time.perf_counter() - started) * 1000


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
