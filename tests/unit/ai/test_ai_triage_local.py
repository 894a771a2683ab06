"""The local triager and its numpy classifiers, on a small labelled set."""

from __future__ import annotations

import numpy as np
import pytest

from helpdesk.ai.classify import NearestNeighbours, SoftmaxClassifier
from helpdesk.ai.embed import OnnxEmbedder
from helpdesk.ai.triage import Example, LocalTriager, TriageConfig, TriageInput, examples_from_csv
from helpdesk.domain.models import Priority
from helpdesk.exceptions import ValidationError

EXAMPLES = [
    Example(text="I was charged twice for my order", category="billing"),
    Example(text="Please refund the duplicate payment", category="billing"),
    Example(text="My invoice shows the wrong amount", category="billing"),
    Example(text="I cannot log in to my account", category="login"),
    Example(text="My password reset link does not work", category="login"),
    Example(text="The two-factor code never arrives", category="login"),
    Example(text="Where is my parcel? It has not arrived", category="shipping"),
    Example(text="The delivery is two weeks late", category="shipping"),
    Example(text="The courier left my package at the wrong address", category="shipping"),
]
CONFIG = TriageConfig(
    routing={"billing": "finance", "login": "accounts", "shipping": "logistics"},
    default_team="front-desk",
    vip_requesters=["boss@example.org", "@bigcustomer.example"],
    examples=EXAMPLES,
)


@pytest.fixture(scope="module")
def triager(embedder: OnnxEmbedder) -> LocalTriager:
    local = LocalTriager(embedder, CONFIG)
    local.fit()
    return local


def test_a_new_ticket_gets_category_team_priority_language_and_summary(triager) -> None:
    result = triager.triage(
        TriageInput("Refund for a double charge", "You took the money twice for order 881.", "a@b")
    )

    assert (result.category, result.team, result.priority) == ("billing", "finance", Priority.HIGH)
    assert result.priority_reasons == ["money"]
    assert result.language == "en"
    assert result.summary == "Refund for a double charge"
    assert 0.35 <= result.category_confidence <= 1.0
    assert result.team_confidence == result.category_confidence


def test_an_unrelated_ticket_is_other_and_goes_to_the_default_team(triager) -> None:
    result = triager.triage(TriageInput("", "What is the capital of Mongolia?", "a@b.org"))

    assert result.category == "other"
    assert result.team == "front-desk"


def test_vip_by_address_or_domain_raises_priority(triager) -> None:
    for requester in ("Boss@Example.org", "anyone@bigcustomer.example"):
        result = triager.triage(TriageInput("Question", "Where is my parcel?", requester))
        assert result.priority == Priority.HIGH and "vip_requester" in result.priority_reasons


def test_without_examples_the_category_is_other_but_rules_still_apply(embedder) -> None:
    result = LocalTriager(embedder, TriageConfig()).triage(
        TriageInput("Outage", "Nobody can log in, the site is down", "a@b.org")
    )

    assert result.category == "other" and result.priority == Priority.URGENT


def test_softmax_and_knn_learn_separable_clusters_and_abstain_when_unsure() -> None:
    rng = np.random.default_rng(1)
    centres = np.eye(3, 8, dtype=np.float32)
    vectors = np.vstack([c + 0.05 * rng.standard_normal((20, 8)) for c in centres])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = [name for name in "abc" for _ in range(20)]

    softmax = SoftmaxClassifier.fit(vectors, labels)
    knn = NearestNeighbours(vectors, labels, k=5)
    ambiguous = (centres[0] + centres[1]) / np.linalg.norm(centres[0] + centres[1])

    for model in (softmax, knn):
        assert [p.label for p in model.predict(centres)] == ["a", "b", "c"]
        assert model.predict(ambiguous[None, :], threshold=0.9)[0].label == "other"
    restored = SoftmaxClassifier.from_bytes(softmax.to_bytes())
    assert np.allclose(restored.probabilities(centres), softmax.probabilities(centres))


def test_examples_load_from_a_csv_with_named_columns(tmp_path) -> None:
    path = tmp_path / "examples.csv"
    path.write_text("instruction,intent\nwhere is my order,track_order\n,empty\n")

    examples = examples_from_csv(path, text_column="instruction", label_column="intent")

    assert examples == [Example(text="where is my order", category="track_order")]
    with pytest.raises(ValidationError):
        examples_from_csv(path)
