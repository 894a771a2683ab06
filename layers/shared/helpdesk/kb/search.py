"""Knowledge-base search: BM25 keyword search and semantic search, merged by reciprocal rank.

Ranking: reciprocal-rank fusion (RRF, k=60) of the two ranked lists, so neither score scale has
to be calibrated against the other. Confidence, which decides whether the first responder
answers, is a separate question: it is the best article's cosine similarity and its gap to the
best *other* article (DESIGN.md: the gap says more than the score alone). Without vectors, the
same two figures come from BM25's confidence (score over the query's best possible score).

numpy and the similarity index are imported only when a semantic query is made.
"""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from helpdesk.kb.bm25 import Bm25Index
from helpdesk.kb.models import Audience, SearchDoc, SearchHit, Visibility
from helpdesk.kb.text import excerpt, tokens

if TYPE_CHECKING:
    import numpy as np

    from helpdesk.ai.embed import Embedder

logger = logging.getLogger(__name__)

RRF_K = 60
CANDIDATES = 20
MAX_EMBEDDED_PASSAGES = 48


@dataclass
class Candidate:
    """One article in a retrieval, with what each method said about it."""

    doc: SearchDoc
    fused: float = 0.0
    keyword_rank: int | None = None
    keyword_confidence: float = 0.0
    keyword_score: float = 0.0
    semantic_rank: int | None = None
    cosine: float | None = None
    passage: int | None = None  # the best passage by cosine; None for the title or unknown


@dataclass
class Retrieval:
    """The ranked candidates for one query and how confident the best one is."""

    query: str
    candidates: list[Candidate] = field(default_factory=list)
    semantic: bool = False

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def confidence(self) -> tuple[float, float]:
        """(score, gap) of the best candidate: cosine and its margin over the best other
        article when semantic search ran, else BM25 confidence and its margin; (0, 0) if none."""
        if not self.candidates:
            return 0.0, 0.0
        if self.semantic:
            values = [c.cosine if c.cosine is not None else 0.0 for c in self.candidates]
        else:
            values = [c.keyword_confidence for c in self.candidates]
        top = values[0]
        others = values[1:]
        return top, top - (max(others) if others else 0.0)


class KbSearchIndex:
    """Search over a fixed set of search documents; build a new one when the KB changes."""

    def __init__(self, docs: Sequence[SearchDoc]) -> None:
        self.docs = list(docs)
        self._keyword = Bm25Index(
            [f"{doc.title} {doc.title} {' '.join(doc.tags)} {doc.text}" for doc in self.docs]
        )
        self._semantic: Any = None
        self._semantic_model: str | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.docs)

    # -- the two methods ------------------------------------------------------------------

    def keyword(
        self, query: str, *, audience: Audience, locale: str | None = None, k: int = CANDIDATES
    ) -> list[Candidate]:
        """BM25 candidates, best first, among the articles `audience` may see."""
        hits = self._keyword.search(query, k, allowed=self._allowed(audience, locale))
        return [
            Candidate(
                doc=self.docs[hit.index],
                keyword_rank=rank,
                keyword_confidence=hit.confidence,
                keyword_score=hit.score,
            )
            for rank, hit in enumerate(hits)
        ]

    def semantic(
        self,
        query_vector: np.ndarray,
        embedder: Embedder,
        *,
        audience: Audience,
        locale: str | None = None,
        k: int = CANDIDATES,
    ) -> list[Candidate]:
        """Nearest articles by their best passage's cosine, best first."""
        index = self._semantic_index(embedder)
        filters: dict[str, Any] = {}
        if audience == Audience.CUSTOMER:
            filters["visibility"] = Visibility.PUBLIC.value
        if locale:
            filters["locale"] = locale
        hits = index.query(query_vector, k=max(k * 8, 64), filters=filters or None)
        best: dict[int, Candidate] = {}
        for hit in hits:
            position = int(hit.metadata["doc"])
            if position in best:
                continue
            row = int(hit.metadata["row"])
            best[position] = Candidate(
                doc=self.docs[position],
                semantic_rank=len(best),
                cosine=hit.score,
                passage=row - 1 if row > 0 else None,
            )
            if len(best) >= k:
                break
        return list(best.values())

    def passage_cosines(self, doc: SearchDoc, query_vector: np.ndarray) -> list[float]:
        """The cosine of each of `doc`'s passages to the query (empty without vectors)."""
        matrix = self._vectors_of(doc)
        if matrix is None or len(matrix) < 2:
            return []
        return [float(value) for value in matrix[1:] @ query_vector]

    # -- merged ---------------------------------------------------------------------------

    def retrieve(
        self,
        query: str,
        *,
        audience: Audience,
        embedder: Embedder | None = None,
        locale: str | None = None,
        k: int = 5,
    ) -> Retrieval:
        """Keyword and (with an embedder) semantic candidates, fused by reciprocal rank.

        A failing embedder leaves the keyword results standing (logged, never raised).
        """
        keyword = self.keyword(query, audience=audience, locale=locale)
        semantic: list[Candidate] = []
        ran_semantic = False
        if embedder is not None and self.docs and query.strip():
            try:
                vector = embedder.embed([query])[0]
                semantic = self.semantic(vector, embedder, audience=audience, locale=locale)
                ran_semantic = True
            except Exception:  # any embedder failure degrades to keyword search
                logger.warning("semantic search failed; keyword results only", exc_info=True)
        merged: dict[str, Candidate] = {}
        for candidate in keyword:
            merged[candidate.doc.id] = candidate
            candidate.fused = 1.0 / (RRF_K + (candidate.keyword_rank or 0) + 1)
        for candidate in semantic:
            rank = candidate.semantic_rank or 0
            known = merged.get(candidate.doc.id)
            if known is None:
                known = merged[candidate.doc.id] = Candidate(doc=candidate.doc)
            known.semantic_rank = rank
            known.cosine = candidate.cosine
            known.passage = candidate.passage
            known.fused += 1.0 / (RRF_K + rank + 1)
        ranked = sorted(merged.values(), key=lambda c: (-c.fused, c.doc.id))[:k]
        if ran_semantic:
            for known in ranked:
                # The passage to quote is the one nearest the question (the title row does not
                # count); an article only keyword search found gets its cosine the same way.
                cosines = self.passage_cosines(known.doc, vector)
                if cosines:
                    known.passage = max(range(len(cosines)), key=cosines.__getitem__)
                    known.passage = _unembedded_passage(known, query) or known.passage
                if known.cosine is None:
                    known.cosine = max(cosines) if cosines else 0.0
        return Retrieval(query=query, candidates=ranked, semantic=ran_semantic)

    # -- helpers --------------------------------------------------------------------------

    def _allowed(self, audience: Audience, locale: str | None) -> set[int] | None:
        if audience == Audience.AGENT and not locale:
            return None
        return {
            position
            for position, doc in enumerate(self.docs)
            if (audience == Audience.AGENT or doc.visibility == Visibility.PUBLIC)
            and (not locale or doc.locale == locale)
        }

    def _semantic_index(self, embedder: Embedder) -> Any:
        with self._lock:
            if self._semantic is not None and self._semantic_model == embedder.model_id:
                return self._semantic
            from helpdesk.ai.index import EmbeddedIndex

            index = EmbeddedIndex(embedder.dimension)
            missing = [doc for doc in self.docs if not self._usable(doc, embedder)]
            if missing:
                # NOTE: articles stored without vectors (no embedder at write time, or another
                # model) are embedded here, in memory, once per index build.
                logger.info("embedding articles without vectors", extra={"count": len(missing)})
                for doc in missing:
                    vectors = embed_passages(embedder, doc.title, doc.passages or [doc.text])
                    doc.vectors, doc.model_id = encode_vectors(vectors), embedder.model_id
            for position, doc in enumerate(self.docs):
                matrix = self._vectors_of(doc)
                assert matrix is not None
                for row, vector in enumerate(matrix):
                    index.upsert(
                        f"{doc.id}#{row}",
                        vector,
                        {
                            "doc": position,
                            "row": row,
                            "visibility": doc.visibility.value,
                            "locale": doc.locale,
                        },
                    )
            self._semantic, self._semantic_model = index, embedder.model_id
            return index

    @staticmethod
    def _usable(doc: SearchDoc, embedder: Embedder) -> bool:
        return bool(doc.vectors) and doc.model_id == embedder.model_id

    @staticmethod
    def _vectors_of(doc: SearchDoc) -> np.ndarray | None:
        if not doc.vectors:
            return None
        return decode_vectors(doc.vectors)


def embed_passages(embedder: Embedder, title: str, passages: Sequence[str]) -> np.ndarray:
    """The vectors stored for an article: its title, then each of its first
    MAX_EMBEDDED_PASSAGES passages prefixed by the title (later passages are found by keyword
    search only, so that a long article's search document stays within DynamoDB's 400 KB)."""
    kept = [p for p in passages if p.strip()][:MAX_EMBEDDED_PASSAGES]
    return embedder.embed([title, *(f"{title}. {passage}" for passage in kept)])


def encode_vectors(vectors: np.ndarray) -> str:
    """Float32 rows as base64 text, for a DynamoDB string attribute."""
    import numpy as np

    return base64.b64encode(np.asarray(vectors, dtype="<f4").tobytes()).decode("ascii")


def decode_vectors(text: str, dimension: int = 384) -> np.ndarray:
    """The float32 rows that `encode_vectors` wrote."""
    import numpy as np

    flat = np.frombuffer(base64.b64decode(text), dtype="<f4")
    return flat.reshape(-1, dimension).astype(np.float32)


def hits_from(retrieval: Retrieval, *, base_url: str) -> list[SearchHit]:
    """A retrieval as search hits for an API response, with URLs and short excerpts."""
    result = []
    for candidate in retrieval.candidates:
        doc = candidate.doc
        result.append(
            SearchHit(
                id=doc.id,
                title=doc.title,
                url=article_url(base_url, doc.id),
                excerpt=excerpt(best_passage_text(candidate, retrieval.query) or doc.text),
                score=round(candidate.fused, 6),
                keyword_score=round(candidate.keyword_score, 4),
                semantic_score=None if candidate.cosine is None else round(candidate.cosine, 4),
                visibility=doc.visibility,
            )
        )
    return result


def article_url(base_url: str, article_id: str) -> str:
    """The public link of an article: `<base_url>/<id>`."""
    return f"{base_url.rstrip('/')}/{article_id}"


def _unembedded_passage(candidate: Candidate, query: str) -> int | None:
    """A passage past the embedded ones (a long article's tail) that holds more of the
    query's terms than the passage chosen by cosine, or None."""
    passages = candidate.doc.passages
    if len(passages) <= MAX_EMBEDDED_PASSAGES or candidate.passage is None:
        return None
    wanted = set(tokens(query))
    overlap = [len(wanted & set(tokens(p))) for p in passages]
    tail = max(range(MAX_EMBEDDED_PASSAGES, len(passages)), key=overlap.__getitem__)
    return tail if overlap[tail] > overlap[candidate.passage] else None


def best_passage_text(candidate: Candidate, query: str) -> str:
    """The passage of the candidate most similar to the query: by cosine when semantic search
    chose one, else by how many of the query's terms it holds."""
    passages = candidate.doc.passages
    if not passages:
        return candidate.doc.text
    if candidate.passage is not None and 0 <= candidate.passage < len(passages):
        return passages[candidate.passage]
    wanted = set(tokens(query))
    scored = [(len(wanted & set(tokens(p))), -i) for i, p in enumerate(passages)]
    return passages[-max(scored)[1]]
