"""`helpdesk bench mail`: parse throughput and memory on corpus A, side by side with mail-parser.

Each parser runs in its own fresh interpreter pinned to one core, in alternating rounds: timed
passes over every file (read into memory first), measured in CPU time so that other work on the
machine does not count; then a pass under tracemalloc for the peak allocation, and the worker's
peak resident set (VmHWM). Reply separation is timed on the two adversarial fixtures.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
REPLY_FIXTURES = ("email_long_quote.txt", "pathological.txt")
SISIMAI_LABELS = {
    "bounces": "bounce",
    "auto_replies": "auto_reply",
    "arf_feedback": "abuse_report",
    "not_bounce": "customer",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "mail",
        help="mail parsing throughput and memory vs mail-parser; reply separation time",
        description="Parse every file of corpus A with our parser and with mail-parser.",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="the shared corpus (default: $HELPDESK_CORPUS or ../shared/corpus)",
    )
    parser.add_argument(
        "--repeat", type=int, default=2, help="passes per worker (the first is reported)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="workers per parser, alternating")
    parser.set_defaults(handler=run)


def corpus_root(explicit: Path | None) -> Path:
    """The corpus folder: the argument, else $HELPDESK_CORPUS, else ../shared/corpus."""
    if explicit is not None:
        return explicit
    return Path(os.environ.get("HELPDESK_CORPUS", ROOT.parent / "shared" / "corpus"))


def run(args: argparse.Namespace) -> int:
    """Print the comparison table; 0 also when the corpus is absent (it says so)."""
    corpus = corpus_root(args.corpus)
    folder = corpus / "A"
    if not folder.is_dir():
        print(f"corpus A not found at {folder}; set HELPDESK_CORPUS. Nothing measured.")
        return 0

    files = corpus_files(folder)
    print(f"corpus: {folder} ({len(files)} files, {sum(p.stat().st_size for p in files):,} bytes)")
    results: dict[str, dict[str, Any]] = {}
    for _ in range(max(1, args.rounds)):
        for name in ("ours", "mail-parser"):
            result = _run_worker(name, folder, args.repeat)
            best = results.get(name)
            if best is None or "error" in best or result.get("seconds", 1e9) < best["seconds"]:
                results[name] = result
    _print_parse_table(results)
    _print_reply_table(folder)
    _print_classification(folder)
    return 0


def corpus_files(folder: Path) -> list[Path]:
    """Every file under corpus A except the EXPECTED.md notes, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "EXPECTED.md")


def _run_worker(name: str, folder: Path, repeat: int) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "helpdesk_tools.benchmarks.mail",
        name,
        str(folder),
        str(repeat),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "shared"), str(ROOT / "infra")]),
    }
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=900, check=False
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1:] or ["worker failed"]}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _print_parse_table(results: dict[str, dict[str, Any]]) -> None:
    print()
    print(
        f"{'parser':<12} {'mails':>6} {'failed':>7} {'CPU s':>8} {'mails/s':>9} {'warm':>7} "
        f"{'peak MiB (tracemalloc)':>23} {'peak RSS MiB':>13}"
    )
    for name, result in results.items():
        if "error" in result:
            print(f"{name:<12} worker failed: {result['error']}")
            continue
        warm = f"{result['warm_per_second']:.0f}" if result.get("warm_per_second") else "-"
        print(
            f"{name:<12} {result['mails']:>6} {result['failed']:>7} {result['seconds']:>8.2f} "
            f"{result['per_second']:>9.0f} {warm:>7} "
            f"{result['peak_mib']:>23.1f} {result['rss_mib']:>13.1f}"
        )
    ours, theirs = results.get("ours", {}), results.get("mail-parser", {})
    if "per_second" in ours and "per_second" in theirs:
        speed = ours["per_second"] / theirs["per_second"]
        memory = ours["peak_mib"] / theirs["peak_mib"] if theirs["peak_mib"] else float("nan")
        rss = ours["rss_mib"] / theirs["rss_mib"] if theirs["rss_mib"] else float("nan")
        print(
            f"ratio ours/mail-parser: speed {speed:.2f}x, peak allocation {memory:.2f}x, "
            f"peak RSS {rss:.2f}x"
        )
        print(
            "mails/s: first pass over the corpus in a fresh process, CPU time on one core "
            "(best of the rounds); warm: a later pass in the same process"
        )
        print(
            "ours: modern email policy, plus classification, reply separation, HTML to text "
            "and sanitising; mail-parser: compat32 policy, no HTML work"
        )


def _print_reply_table(folder: Path) -> None:
    from helpdesk.mail.reply import parse_reply

    print()
    print(
        f"{'reply separation':<28} {'bytes':>9} {'fragments':>10} {'median ms':>10} {'max ms':>8}"
    )
    for name in REPLY_FIXTURES:
        path = folder / "reply_parsing" / "github_email_reply_parser" / name
        if not path.is_file():
            print(f"{name:<28} missing")
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        timings = []
        fragments = 0
        for _ in range(7):
            started = time.perf_counter()
            fragments = len(parse_reply(text).fragments)
            timings.append((time.perf_counter() - started) * 1000)
        print(
            f"{name:<28} {len(text.encode()):>9,} {fragments:>10} "
            f"{statistics.median(timings):>10.2f} {max(timings):>8.2f}"
        )


def _print_classification(folder: Path) -> None:
    from helpdesk.mail.parse import parse_mail

    root = folder / "bounces_autoreplies" / "sisimai"
    if not root.is_dir():
        return
    received_at = datetime.now(UTC)
    confusion: Counter[tuple[str, str]] = Counter()
    for sub, label in SISIMAI_LABELS.items():
        for path in sorted((root / sub).iterdir()):
            outcome = parse_mail(path.read_bytes(), received_at=received_at).outcome.value
            confusion[(label, outcome)] += 1
    outcomes = ["bounce", "auto_reply", "abuse_report", "customer", "rejected"]
    print()
    print("classification of A/bounces_autoreplies (rows: folder label, columns: our outcome)")
    print(f"{'label':<14}" + "".join(f"{o:>13}" for o in outcomes) + f"{'total':>8}")
    for label in SISIMAI_LABELS.values():
        row = [confusion[(label, o)] for o in outcomes]
        print(f"{label:<14}" + "".join(f"{n:>13}" for n in row) + f"{sum(row):>8}")
    correct = sum(n for (label, outcome), n in confusion.items() if label == outcome)
    print(f"agreement: {correct}/{sum(confusion.values())}")


# --- the worker, run in a fresh interpreter ------------------------------------------------


def _wrap_tnef(stream: bytes) -> bytes:
    return (
        b"From: o@example.com\r\nSubject: tnef\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="w"\r\n\r\n--w\r\n'
        b'Content-Type: application/ms-tnef; name="winmail.dat"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(stream) + b"\r\n--w--\r\n"
    )


def _worker(name: str, folder: Path, repeat: int) -> dict[str, Any]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    logging.disable(logging.CRITICAL)
    mails = [
        _wrap_tnef(p.read_bytes()) if p.suffix == ".tnef" else p.read_bytes()
        for p in corpus_files(folder)
    ]
    parse = _parser(name)
    parse(b"From: warm@example.com\nSubject: up\n\nimports are not what we measure\n")

    # The first pass over the corpus is the honest figure: our parser caches parsed header
    # values, so later passes over the same files run warm.
    passes = []
    failed = 0
    for _ in range(max(1, repeat)):
        failed = 0
        started = time.process_time()
        for raw in mails:
            failed += not parse(raw)
        passes.append(time.process_time() - started)
    first, warm = passes[0], min(passes[1:], default=None)

    tracemalloc.start()
    for raw in mails:
        parse(raw)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "mails": len(mails),
        "failed": failed,
        "seconds": first,
        "per_second": len(mails) / first,
        "warm_per_second": len(mails) / warm if warm else None,
        "peak_mib": peak / 2**20,
        "rss_mib": _peak_rss_kib() / 1024,
    }


def _peak_rss_kib() -> int:
    """This process's peak resident set. ru_maxrss would include the parent's, which Linux
    keeps across exec; VmHWM belongs to this image alone."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _parser(name: str) -> Any:
    if name == "ours":
        from helpdesk.mail.parse import parse_mail

        received_at = datetime.now(UTC)

        def ours(raw: bytes) -> bool:
            return parse_mail(raw, received_at=received_at).error is None

        return ours

    import mailparser

    def theirs(raw: bytes) -> bool:
        try:
            mail = mailparser.parse_from_bytes(raw)
            _ = (mail.subject, mail.from_, mail.text_plain, mail.attachments)
        except Exception:  # mail-parser raises on some corpus files; we count them
            return False
        return True

    return theirs


if __name__ == "__main__":
    worker_name, worker_folder, worker_repeat = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(_worker(worker_name, worker_folder, worker_repeat)))
