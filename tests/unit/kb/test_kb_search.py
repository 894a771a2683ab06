"""Keyword and semantic search over articles, merged by reciprocal rank."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from helpdesk.ai.embed import OnnxEmbedder
from helpdesk.kb.bm25 import Bm25Index
from helpdesk.kb.models import Article, Audience, Visibility
from helpdesk.kb.search import KbSearchIndex
from helpdesk.kb.service import search_doc

NOW = datetime(2026, 1, 5, tzinfo=UTC)

ARTICLES = [
    ("reset-password", "Reset your password", "Click Forgot password on the sign-in page. "
     "We mail you a link that works for one hour.", Visibility.PUBLIC),
    ("refund-policy", "Refund policy", "You can return any item within 30 days for a full "
     "refund to the original payment method.", Visibility.PUBLIC),
    ("shipping-times", "Shipping times", "Parcels leave our warehouse within two working days "
     "and arrive in three to five days.", Visibility.PUBLIC),
    ("agent-refund-override", "Refund override for agents", "Agents may approve refunds "
     "outside the 30 days for VIP customers.", Visibility.INTERNAL),
]  # fmt: skip


def index(embedder: OnnxEmbedder | None) -> KbSearchIndex:
    docs = [
        search_doc(
            Article(
                id=article_id,
                title=title,
                body=body,
                visibility=visibility,
                created_at=NOW,
                updated_at=NOW,
            ),
            embedder,
        )
        for article_id, title, body, visibility in ARTICLES
    ]
    return KbSearchIndex(docs)


def test_bm25_ranks_the_document_with_the_rarer_matching_words_first() -> None:
    bm25 = Bm25Index(["the cat sat", "the dog barked at the cat", "a dog and a bird"])

    hits = bm25.search("barking dog", k=3)

    assert [hit.index for hit in hits] == [1, 2]
    assert 0 < hits[1].confidence < hits[0].confidence <= 1


def test_keyword_search_finds_inflected_words() -> None:
    found = index(None).retrieve("parcel arriving", audience=Audience.CUSTOMER)

    assert found.best is not None and found.best.doc.id == "shipping-times"
    assert not found.semantic


def test_semantic_search_finds_a_paraphrase(embedder: OnnxEmbedder) -> None:
    kb = index(embedder)
    question = "I can't log in, I forgot my login secret"

    hybrid = kb.retrieve(question, audience=Audience.CUSTOMER, embedder=embedder)

    assert hybrid.semantic
    assert hybrid.best is not None and hybrid.best.doc.id == "reset-password"
    assert hybrid.best.cosine is not None and hybrid.best.cosine > 0.3


def test_merged_results_hold_what_either_method_found(embedder: OnnxEmbedder) -> None:
    kb = index(embedder)

    merged = kb.retrieve("money back on a purchase", audience=Audience.CUSTOMER, embedder=embedder)

    ids = [candidate.doc.id for candidate in merged.candidates]
    assert ids[0] == "refund-policy"
    assert set(ids) <= {"reset-password", "refund-policy", "shipping-times"}
    fused = [candidate.fused for candidate in merged.candidates]
    assert fused == sorted(fused, reverse=True)


def test_customers_never_get_internal_articles_from_either_method(embedder: OnnxEmbedder) -> None:
    kb = index(embedder)
    question = "refund override for agents VIP"

    customer = kb.retrieve(question, audience=Audience.CUSTOMER, embedder=embedder, k=10)
    agent = kb.retrieve(question, audience=Audience.AGENT, embedder=embedder, k=10)

    assert "agent-refund-override" not in [c.doc.id for c in customer.candidates]
    assert agent.best is not None and agent.best.doc.id == "agent-refund-override"


def test_a_failing_embedder_leaves_keyword_results(embedder: OnnxEmbedder) -> None:
    kb = index(embedder)

    class Broken:
        dimension = 384
        model_id = embedder.model_id

        def embed(self, texts: object) -> object:
            raise RuntimeError("model file unreadable")

    found = kb.retrieve("refund", audience=Audience.CUSTOMER, embedder=Broken())  # type: ignore[arg-type]

    assert not found.semantic
    assert found.best is not None and found.best.doc.id == "refund-policy"


def test_the_keyword_path_imports_neither_numpy_nor_onnxruntime() -> None:
    import subprocess

    code = (
        "import sys\n"
        "from helpdesk.kb.search import KbSearchIndex\n"
        "from helpdesk.kb.models import SearchDoc, Audience\n"
        "i = KbSearchIndex([SearchDoc(id='a', title='Reset password', text='Use the link')])\n"
        "assert i.retrieve('password', audience=Audience.CUSTOMER).best.doc.id == 'a'\n"
        "print(sorted(m for m in ('numpy', 'onnxruntime', 'anthropic') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[3] / "layers" / "shared")},
    )

    assert result.stdout.strip() == "[]"
