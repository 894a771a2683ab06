"""The embedded similarity index: exact cosine, filters, deletes, and a compact stored form."""

from __future__ import annotations

import numpy as np
import pytest

from helpdesk.ai.index import EmbeddedIndex, Range
from helpdesk.exceptions import IndexStoreError, ValidationError


def _unit(*values: float, dimension: int = 4) -> np.ndarray:
    vector = np.zeros(dimension, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


@pytest.fixture
def index() -> EmbeddedIndex:
    index = EmbeddedIndex(4)
    index.upsert("1", _unit(1, 0), {"status": "open", "created_at": 100})
    index.upsert("2", _unit(1, 1), {"status": "open", "created_at": 200})
    index.upsert("3", _unit(0, 1), {"status": "solved", "created_at": 300})
    return index


def test_query_returns_the_nearest_first_with_cosine_scores(index: EmbeddedIndex) -> None:
    hits = index.query(_unit(1, 0.1), k=2)

    assert [hit.id for hit in hits] == ["1", "2"]
    assert hits[0].score == pytest.approx(float(_unit(1, 0) @ _unit(1, 0.1)), abs=1e-6)
    assert hits[0].metadata == {"status": "open", "created_at": 100}


def test_filters_on_status_and_age_leave_out_the_rest(index: EmbeddedIndex) -> None:
    assert [h.id for h in index.query(_unit(0, 1), k=5, filters={"status": "open"})] == ["2", "1"]
    recent = index.query(_unit(1, 0), k=5, filters={"created_at": Range(gte=150)})
    assert {hit.id for hit in recent} == {"2", "3"}
    either = index.query(_unit(1, 0), k=5, filters={"status": ["open", "solved"]})
    assert len(either) == 3
    assert index.query(_unit(1, 0), filters={"status": "closed"}) == []


def test_upsert_replaces_and_delete_removes(index: EmbeddedIndex) -> None:
    index.upsert("1", _unit(0, 0, 1), {"status": "pending"})
    index.delete("2")
    index.delete("absent")

    assert len(index) == 2
    assert index.query(_unit(0, 0, 1), k=1)[0].id == "1"
    assert index.metadata("1") == {"status": "pending"}
    assert "2" not in index
    assert [hit.id for hit in index.query(_unit(1, 1), k=5)] == ["3", "1"]


def test_prune_deletes_what_fails_the_filter(index: EmbeddedIndex) -> None:
    assert index.prune({"status": "open"}) == 1
    assert sorted(index.ids()) == ["1", "2"]


def test_a_stored_index_answers_like_the_original(index: EmbeddedIndex) -> None:
    data = index.to_bytes()
    restored = EmbeddedIndex.from_bytes(data)

    assert restored.ids() == index.ids()
    assert restored.metadata("3") == {"status": "solved", "created_at": 300}
    original = [(h.id, round(h.score, 3)) for h in index.query(_unit(1, 0.5), k=3)]
    assert [(h.id, round(h.score, 3)) for h in restored.query(_unit(1, 0.5), k=3)] == original


def test_storage_is_float16_so_half_the_bytes_of_float32() -> None:
    rng = np.random.default_rng(7)
    index = EmbeddedIndex(384)
    for number in range(500):
        index.upsert(str(number), rng.standard_normal(384).astype(np.float32), {"n": number})

    assert len(index.to_bytes()) < 500 * 384 * 4 * 0.6


def test_garbage_bytes_are_an_index_store_error() -> None:
    with pytest.raises(IndexStoreError):
        EmbeddedIndex.from_bytes(b"not an npz")


def test_wrong_dimension_and_nested_metadata_are_refused(index: EmbeddedIndex) -> None:
    with pytest.raises(ValidationError):
        index.upsert("9", np.ones(3, dtype=np.float32), {})
    with pytest.raises(ValidationError):
        index.upsert("9", _unit(1), {"tags": ["a"]})


def test_growing_past_the_initial_capacity_keeps_every_vector() -> None:
    index = EmbeddedIndex(4)
    for number in range(200):
        index.upsert(str(number), _unit(1, number / 200), {"n": number})

    assert len(index) == 200
    assert index.query(_unit(1, 199 / 200), k=1)[0].id == "199"
