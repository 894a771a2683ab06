"""Okapi BM25 over a small set of documents, in plain Python (no numpy on the keyword path)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from helpdesk.kb.text import tokens

K1 = 1.2
B = 0.75


@dataclass(frozen=True)
class KeywordHit:
    """One document's BM25 score and its confidence: the score over the query's best possible."""

    index: int
    score: float
    confidence: float


class Bm25Index:
    """An immutable BM25 index; documents are referred to by their position in the input."""

    def __init__(self, documents: Sequence[str], *, k1: float = K1, b: float = B) -> None:
        self._k1 = k1
        self._b = b
        self._postings: dict[str, list[tuple[int, int]]] = {}
        self._lengths: list[int] = []
        for position, document in enumerate(documents):
            counts = Counter(tokens(document))
            self._lengths.append(sum(counts.values()))
            for term, count in counts.items():
                self._postings.setdefault(term, []).append((position, count))
        self._count = len(self._lengths)
        self._average = (sum(self._lengths) / self._count) if self._count else 0.0

    def __len__(self) -> int:
        return self._count

    def idf(self, term: str) -> float:
        """The term's inverse document frequency (BM25+ style, never negative)."""
        frequency = len(self._postings.get(term, ()))
        return math.log(1.0 + (self._count - frequency + 0.5) / (frequency + 0.5))

    def search(
        self, query: str, k: int = 10, *, allowed: set[int] | None = None
    ) -> list[KeywordHit]:
        """The `k` best documents for `query` (only those in `allowed` when given), best first.

        A hit's confidence divides its score by the most any document could score for this
        query (every query term present, saturated), so it lies in [0, 1] across queries.
        """
        terms = Counter(tokens(query))
        if not terms or not self._count:
            return []
        scores: dict[int, float] = {}
        ceiling = 0.0
        for term, repeats in terms.items():
            weight = self.idf(term) * repeats
            ceiling += weight * (self._k1 + 1.0)
            for position, count in self._postings.get(term, ()):
                if allowed is not None and position not in allowed:
                    continue
                relative = self._lengths[position] / self._average
                norm = self._k1 * (1.0 - self._b + self._b * relative)
                scores[position] = scores.get(position, 0.0) + weight * (
                    count * (self._k1 + 1.0) / (count + norm)
                )
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
        return [
            KeywordHit(position, score, min(1.0, score / ceiling) if ceiling else 0.0)
            for position, score in ranked
        ]
