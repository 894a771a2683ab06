"""`helpdesk eval triage`: category accuracy and macro-F1 of the local triager.

Inputs, by path: `--train` and `--test` CSVs with `text,category` columns (other column names
with `--text-column` / `--label-column`). With `--split F` and no `--test`, a stratified
fraction F of the train file is held out (seeded), which is how the Bitext set is measured:

    helpdesk eval triage --train .../banking77/train.csv --test .../banking77/test.csv
    helpdesk eval triage --train .../Bitext_Sample_Customer_Support_Training_Dataset.csv \\
        --text-column instruction --label-column intent --split 0.2

Side by side in one run: the product's classifier (MiniLM embeddings, numpy softmax
regression, run through `LocalTriager` with its confidence threshold and similarity floor),
MiniLM k-NN (k=10), and TF-IDF + logistic regression (scikit-learn) as the baseline. For the
product, also the abstention rate (answers "other") and the accuracy of the answers it gives,
at each `--threshold`.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from helpdesk.ai.classify import OTHER, NearestNeighbours, SoftmaxClassifier
from helpdesk.ai.triage import LocalTriager, TriageConfig, TriageInput

SEED = 5


@dataclass(frozen=True)
class Row:
    method: str
    accuracy: float
    macro_f1: float
    threshold: float | None = None
    abstained: float | None = None
    answered_accuracy: float | None = None


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("triage", help="category accuracy and macro-F1 vs TF-IDF + LR")
    parser.add_argument("--train", type=Path, required=True, help="CSV with text and label")
    parser.add_argument("--test", type=Path, help="CSV with text and label (else --split)")
    parser.add_argument("--split", type=float, help="hold out this stratified fraction of train")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--text-column", default="text")
    parser.add_argument("--label-column", default="category")
    parser.add_argument(
        "--threshold",
        type=float,
        action="append",
        help="confidence threshold(s) for abstention (default: the product's, and 0.5, 0.7)",
    )
    parser.add_argument("--cache", type=Path, help="folder to keep embeddings between runs")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the table; returns 0, or 2 for unusable input."""
    try:
        train = read(args.train, args.text_column, args.label_column)
        if args.test is not None:
            test = read(args.test, args.text_column, args.label_column)
            split_note = f"test file {args.test.name}"
        elif args.split:
            train, test = stratified_split(train, args.split, args.seed)
            split_note = (
                f"stratified {args.split:.0%} of {args.train.name} held out, seed {args.seed}"
            )
        else:
            raise ValueError("give --test or --split")
    except (KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    labels = sorted({label for _, label in train})
    print(f"{len(train)} train, {len(test)} test, {len(labels)} categories; {split_note}")

    started = time.perf_counter()
    train_vectors = _embed([text for text, _ in train], args.cache)
    test_vectors = _embed([text for text, _ in test], args.cache)
    print(f"embedded in {time.perf_counter() - started:.0f} s")
    truth = [label for _, label in test]
    train_labels = [label for _, label in train]
    default = TriageConfig().category_threshold
    thresholds = args.threshold or [default, 0.5, 0.7]

    rows: list[Row] = []
    softmax = SoftmaxClassifier.fit(train_vectors, train_labels)
    plain = [p.label for p in softmax.predict(test_vectors)]
    rows.append(Row("MiniLM + softmax (product)", *_scores(truth, plain)))
    for threshold in thresholds:
        answers = _local_triage(softmax, train_vectors, test, test_vectors, threshold)
        rows.append(
            _abstaining(f"  product, abstaining below {threshold:.2f}", truth, answers, threshold)
        )
    knn = NearestNeighbours(train_vectors, train_labels, k=10)
    rows.append(
        Row("MiniLM k-NN, k=10", *_scores(truth, [p.label for p in knn.predict(test_vectors)]))
    )
    rows.append(
        Row("TF-IDF + logistic regression (baseline)", *_scores(truth, _tfidf_lr(train, test)))
    )
    print_table(rows)
    return 0


def read(path: Path, text_column: str, label_column: str) -> list[tuple[str, str]]:
    """(text, label) pairs; raises KeyError naming a missing column."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for column in (text_column, label_column):
            if column not in (reader.fieldnames or []):
                raise KeyError(f"{path.name} has no column {column!r}")
        return [
            (row[text_column].strip(), row[label_column].strip())
            for row in reader
            if row[text_column].strip() and row[label_column].strip()
        ]


def stratified_split(
    rows: list[tuple[str, str]], fraction: float, seed: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Train and test lists, holding out `fraction` of each label's rows (seeded)."""
    by_label: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        by_label[row[1]].append(row)
    rng = random.Random(seed)
    train: list[tuple[str, str]] = []
    test: list[tuple[str, str]] = []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        cut = max(1, round(len(group) * fraction))
        test += group[:cut]
        train += group[cut:]
    return train, test


def _local_triage(
    classifier: SoftmaxClassifier,
    example_vectors: np.ndarray,
    test: list[tuple[str, str]],
    test_vectors: np.ndarray,
    threshold: float,
) -> list[str]:
    config = TriageConfig(category_threshold=threshold, categories=list(classifier.labels))
    triager = LocalTriager(_NoEmbedder(), config)
    triager.use_classifier(classifier, example_vectors)
    return [
        triager.triage(TriageInput("", text), vector).category
        for (text, _), vector in zip(test, test_vectors, strict=True)
    ]


class _NoEmbedder:
    """The evaluation passes every vector in; the triager must not embed by itself."""

    dimension = 384
    model_id = "precomputed"

    def embed(self, texts: Any) -> np.ndarray:
        raise AssertionError("vectors are precomputed")


def _scores(truth: list[str], predicted: list[str]) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return (
        float(accuracy_score(truth, predicted)),
        float(f1_score(truth, predicted, average="macro", labels=sorted(set(truth)))),
    )


def _abstaining(name: str, truth: list[str], answers: list[str], threshold: float) -> Row:
    answered = [(t, a) for t, a in zip(truth, answers, strict=True) if a != OTHER]
    accuracy, macro = _scores(truth, answers)
    correct = sum(t == a for t, a in answered)
    return Row(
        name,
        accuracy,
        macro,
        threshold=threshold,
        abstained=1 - len(answered) / len(truth),
        answered_accuracy=correct / len(answered) if answered else 0.0,
    )


def _tfidf_lr(train: list[tuple[str, str]], test: list[tuple[str, str]]) -> list[str]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1)
    x_train = vectorizer.fit_transform([text for text, _ in train])
    model = LogisticRegression(C=10.0, max_iter=2000)
    model.fit(x_train, [label for _, label in train])
    return [str(label) for label in model.predict(vectorizer.transform([t for t, _ in test]))]


def _embed(texts: list[str], cache: Path | None) -> np.ndarray:
    from helpdesk.ai.embed import OnnxEmbedder

    key = hashlib.sha256("\x00".join(texts).encode("utf-8")).hexdigest()[:20]
    path = cache / f"minilm-{key}.npy" if cache else None
    if path is not None and path.is_file():
        return np.load(path)
    vectors = OnnxEmbedder(threads=2).embed(texts)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return vectors


def print_table(rows: list[Row]) -> None:
    print("| method | accuracy | macro-F1 | abstains | accuracy when answering |")
    print("|---|---|---|---|---|")
    for row in rows:
        abstained = f"{row.abstained:.1%}" if row.abstained is not None else ""
        answered = f"{row.answered_accuracy:.3f}" if row.answered_accuracy is not None else ""
        print(
            f"| {row.method} | {row.accuracy:.3f} | {row.macro_f1:.3f} | {abstained} | {answered} |"
        )
    print(
        "\nabstaining = answering 'other' when the softmax confidence is below the threshold or "
        "the nearest labelled example is less similar than the floor; accuracy and macro-F1 of "
        "those rows count 'other' as wrong."
    )
