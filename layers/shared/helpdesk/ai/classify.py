"""Category classifiers over embeddings, in numpy only (no scikit-learn at run time).

- `SoftmaxClassifier`: multinomial logistic regression trained with full-batch Adam and an L2
  penalty; its weights are a (dimension + 1, classes) array that stores in a few hundred KB.
- `NearestNeighbours`: cosine k-NN with votes weighted by similarity.

Both return, for each text, the best label and its probability; `predict` abstains with
`other` below a confidence threshold.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from helpdesk.exceptions import ValidationError

OTHER = "other"


@dataclass(frozen=True)
class Prediction:
    """A label, its probability, and the runner-up's (the gap is a confidence signal too)."""

    label: str
    confidence: float
    runner_up: str | None = None
    runner_up_confidence: float = 0.0


class SoftmaxClassifier:
    """Multinomial logistic regression on unit-length embeddings."""

    def __init__(self, labels: Sequence[str], weights: np.ndarray) -> None:
        if weights.shape[1] != len(labels):
            raise ValidationError("weights and labels disagree", field="labels")
        self.labels = list(labels)
        self.weights = weights.astype(np.float32)

    @classmethod
    def fit(
        cls,
        vectors: np.ndarray,
        labels: Sequence[str],
        *,
        l2: float = 1e-5,
        steps: int = 500,
        learning_rate: float = 0.05,
        seed: int = 0,
    ) -> SoftmaxClassifier:
        """Train on `vectors` (n, d) and their `labels`; returns the classifier.

        Raises ValidationError when there are no examples or fewer than two labels.
        """
        names = sorted(set(labels))
        if len(vectors) == 0 or len(names) < 2:
            raise ValidationError("need examples of at least two categories", field="examples")
        position = {name: i for i, name in enumerate(names)}
        targets = np.array([position[label] for label in labels])
        x = _with_bias(np.asarray(vectors, dtype=np.float32))
        onehot = np.zeros((len(x), len(names)), dtype=np.float32)
        onehot[np.arange(len(x)), targets] = 1.0
        rng = np.random.default_rng(seed)
        weights = rng.normal(0, 0.01, size=(x.shape[1], len(names))).astype(np.float32)
        first: np.ndarray = np.zeros_like(weights)
        second: np.ndarray = np.zeros_like(weights)
        beta1, beta2 = 0.9, 0.999
        for step in range(1, steps + 1):
            probabilities = _softmax(x @ weights)
            gradient = x.T @ (probabilities - onehot) / len(x) + l2 * weights
            first = beta1 * first + (1 - beta1) * gradient
            second = beta2 * second + (1 - beta2) * gradient * gradient
            corrected = first / (1 - beta1**step)
            scale = np.sqrt(second / (1 - beta2**step)) + 1e-8
            weights -= learning_rate * corrected / scale
        return cls(names, weights)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """An (n, classes) array of probabilities, columns in the order of `labels`."""
        return _softmax(_with_bias(np.asarray(vectors, dtype=np.float32)) @ self.weights)

    def predict(self, vectors: np.ndarray, threshold: float = 0.0) -> list[Prediction]:
        """The best label for each row; `other` where its probability is below `threshold`."""
        return _predictions(self.probabilities(vectors), self.labels, threshold)

    def to_bytes(self) -> bytes:
        """The weights and labels as a compressed .npz."""
        buffer = io.BytesIO()
        labels = np.frombuffer(json.dumps(self.labels).encode("utf-8"), dtype=np.uint8)
        np.savez_compressed(buffer, weights=self.weights, labels=labels)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> SoftmaxClassifier:
        """A classifier read from `to_bytes` output."""
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            labels = json.loads(archive["labels"].tobytes().decode("utf-8"))
            return cls(labels, archive["weights"])


class NearestNeighbours:
    """Cosine k-NN over labelled unit vectors; votes weighted by similarity."""

    def __init__(self, vectors: np.ndarray, labels: Sequence[str], k: int = 10) -> None:
        if len(vectors) != len(labels) or len(vectors) == 0:
            raise ValidationError("need one label per example", field="examples")
        self.labels = sorted(set(labels))
        position = {name: i for i, name in enumerate(self.labels)}
        self._vectors = np.asarray(vectors, dtype=np.float32)
        self._targets = np.array([position[label] for label in labels])
        self.k = max(1, min(k, len(labels)))

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """An (n, classes) array of vote shares."""
        scores = np.asarray(vectors, dtype=np.float32) @ self._vectors.T
        nearest = np.argpartition(-scores, self.k - 1, axis=1)[:, : self.k]
        votes = np.zeros((len(scores), len(self.labels)), dtype=np.float32)
        for row in range(len(scores)):
            weights = np.maximum(scores[row, nearest[row]], 0.0)
            np.add.at(votes[row], self._targets[nearest[row]], weights)
        totals = votes.sum(axis=1, keepdims=True)
        return votes / np.maximum(totals, 1e-9)

    def predict(self, vectors: np.ndarray, threshold: float = 0.0) -> list[Prediction]:
        """The best label for each row; `other` where its vote share is below `threshold`."""
        return _predictions(self.probabilities(vectors), self.labels, threshold)


def _with_bias(x: np.ndarray) -> np.ndarray:
    return np.hstack([x, np.ones((len(x), 1), dtype=np.float32)])


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def _predictions(
    probabilities: np.ndarray, labels: list[str], threshold: float
) -> list[Prediction]:
    results: list[Prediction] = []
    for row in probabilities:
        order = np.argsort(-row)
        best = int(order[0])
        second = int(order[1]) if len(order) > 1 else None
        confidence = float(row[best])
        results.append(
            Prediction(
                label=labels[best] if confidence >= threshold else OTHER,
                confidence=round(confidence, 4),
                runner_up=labels[second] if second is not None else None,
                runner_up_confidence=round(float(row[second]), 4) if second is not None else 0.0,
            )
        )
    return results
