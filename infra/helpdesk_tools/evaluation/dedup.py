"""`helpdesk eval dedup`: how well similar-ticket search finds the earlier duplicate.

Inputs, by path, in the format of the shared corpus's gitbugs folder:

- `--reports`: a CSV with `Summary`, `Issue id`, `Created` and `Description` columns;
- `--links`: a CSV with `Issue id` and `Duplicate id` (one id or a comma-separated list).

Reports are replayed in creation order. For each report linked to an earlier one, only the
reports created before it are candidates, as in the product. Figures, side by side in one run
for the product's embedding search (all-MiniLM-L6-v2 on subject + body, blended with the
subject's own embedding), plain MiniLM on subject + body, and a TF-IDF baseline:

- recall@1, recall@5 and MRR over the reports that have an earlier duplicate in the file;
- the false-merge rate at a threshold: of all reports whose best earlier match scores at or
  above the threshold (the product's merge rule, without the same-requester and time-window
  conditions these data cannot express), the share whose best match is not a linked duplicate.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from helpdesk.ai.settings import TriageSettings

BODY_CHARS = 2000


@dataclass(frozen=True)
class Report:
    id: str
    created: datetime
    subject: str
    body: str

    @property
    def text(self) -> str:
        return f"{self.subject}\n\n{self.body}".strip()


@dataclass(frozen=True)
class Figures:
    queries: int
    recall_at_1: float
    recall_at_5: float
    mrr: float
    merges: dict[float, tuple[int, int]]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("dedup", help="duplicate search: recall@k, MRR, false merges")
    parser.add_argument("--reports", type=Path, required=True, help="bug-report CSV")
    parser.add_argument("--links", type=Path, required=True, help="duplicate-links CSV")
    parser.add_argument(
        "--threshold",
        type=float,
        action="append",
        help="merge threshold(s) for the false-merge rate (default: the product's settings)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the table; returns 0, or 2 when the files do not have the expected columns."""
    try:
        reports = read_reports(args.reports)
        links = read_links(args.links)
    except (KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    defaults = TriageSettings.model_fields
    thresholds = args.threshold or [
        float(defaults["merge_threshold"].default),
        float(defaults["incident_threshold"].default),
    ]
    targets = earlier_duplicates(reports, links)
    print(
        f"{len(reports)} reports, {sum(1 for t in targets if t)} with an earlier duplicate "
        f"in the file; replayed in creation order"
    )
    full, search = _minilm(reports, float(defaults["subject_weight"].default))
    rows = [
        ("MiniLM, subject-weighted (product)", evaluate(search, targets, thresholds)),
        ("MiniLM, subject + body", evaluate(full, targets, thresholds)),
        (
            "TF-IDF cosine (baseline)",
            evaluate(_tfidf([r.text for r in reports]), targets, thresholds),
        ),
    ]
    print_table(rows, thresholds)
    return 0


def read_reports(path: Path) -> list[Report]:
    """The reports, oldest first; raises KeyError for a missing column."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    reports = [
        Report(
            id=row["Issue id"].strip(),
            created=datetime.fromisoformat(row["Created"].strip()),
            subject=row["Summary"].strip(),
            body=(row["Description"] or "").strip()[:BODY_CHARS],
        )
        for row in rows
    ]
    return sorted(reports, key=lambda report: (report.created, report.id))


def read_links(path: Path) -> dict[str, set[str]]:
    """Duplicate links, made symmetric: id -> the ids it duplicates or is duplicated by."""
    links: dict[str, set[str]] = defaultdict(set)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            source = row["Issue id"].strip()
            for other in row["Duplicate id"].split(","):
                other = other.strip()
                if other and other != source:
                    links[source].add(other)
                    links[other].add(source)
    return links


def earlier_duplicates(reports: Sequence[Report], links: dict[str, set[str]]) -> list[set[int]]:
    """For each report (by position), the positions of earlier reports linked to it."""
    position = {report.id: i for i, report in enumerate(reports)}
    return [
        {position[other] for other in links.get(report.id, ()) if position.get(other, i) < i}
        for i, report in enumerate(reports)
    ]


def evaluate(vectors: np.ndarray, targets: list[set[int]], thresholds: list[float]) -> Figures:
    """Replay: each report against the reports before it."""
    scores = vectors @ vectors.T
    hits_1 = hits_5 = 0
    reciprocal = 0.0
    queries = 0
    merges: dict[float, list[int]] = {threshold: [0, 0] for threshold in thresholds}
    for i in range(1, len(vectors)):
        earlier = scores[i, :i]
        order = np.argsort(-earlier, kind="stable")
        best = int(order[0])
        for threshold in thresholds:
            if earlier[best] >= threshold:
                merges[threshold][0] += 1
                merges[threshold][1] += best not in targets[i]
        if not targets[i]:
            continue
        queries += 1
        rank = next(r for r, j in enumerate(order, start=1) if int(j) in targets[i])
        hits_1 += rank == 1
        hits_5 += rank <= 5
        reciprocal += 1.0 / rank
    return Figures(
        queries=queries,
        recall_at_1=hits_1 / max(queries, 1),
        recall_at_5=hits_5 / max(queries, 1),
        mrr=reciprocal / max(queries, 1),
        merges={t: (m[0], m[1]) for t, m in merges.items()},
    )


def print_table(rows: list[tuple[str, Figures]], thresholds: list[float]) -> None:
    merge_headers = "".join(f" | merges@{t:.2f} (false)" for t in thresholds)
    print(f"| method | queries | R@1 | R@5 | MRR{merge_headers} |")
    print("|---|---|---|---|---" + "|---" * len(thresholds) + "|")
    for name, figures in rows:
        cells = "".join(
            f" | {figures.merges[t][0]} ({_rate(figures.merges[t])})" for t in thresholds
        )
        print(
            f"| {name} | {figures.queries} | {figures.recall_at_1:.3f} | "
            f"{figures.recall_at_5:.3f} | {figures.mrr:.3f}{cells} |"
        )
    print(
        "\nfalse-merge rate = best earlier match at or above the threshold but not a linked "
        "duplicate, over all such merges (the product also requires the same requester within "
        "a short window, which these data cannot show)."
    )


def _rate(merge: tuple[int, int]) -> str:
    total, false = merge
    return f"{false / total:.2f}" if total else "n/a"


def _minilm(reports: Sequence[Report], subject_weight: float) -> tuple[np.ndarray, np.ndarray]:
    from helpdesk.ai.embed import OnnxEmbedder, ticket_vectors

    return ticket_vectors(
        OnnxEmbedder(threads=2),
        [report.subject for report in reports],
        [report.body for report in reports],
        subject_weight,
    )


def _tfidf(texts: list[str]) -> np.ndarray:
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(texts)
    return np.asarray(matrix.toarray(), dtype=np.float32)
