"""The embedded index kept in S3 (moto): a cold start reads it, concurrent savers lose nothing."""

from __future__ import annotations

from typing import Any

import numpy as np

from helpdesk.ai.index import PersistentIndex, Range, S3IndexStore


def _unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _store(aws: Any, stack: Any) -> S3IndexStore:
    return S3IndexStore(aws.client("s3"), stack.buckets["AttachmentBucket"], "ai/index/x.npz")


def test_a_cold_start_finds_what_the_last_container_saved(aws, stack) -> None:
    first = PersistentIndex(_store(aws, stack), 384)
    first.upsert("1", _unit(1), {"status_category": "open", "created_at": 100})
    assert first.flush() is True

    cold = PersistentIndex(_store(aws, stack), 384)

    assert cold.query(_unit(1), k=1)[0].id == "1"
    assert cold.flush() is False


def test_two_containers_saving_at_once_keep_both_changes(aws, stack) -> None:
    seed = PersistentIndex(_store(aws, stack), 384)
    seed.upsert("0", _unit(0), {"status_category": "open", "created_at": 100})
    seed.flush()
    one = PersistentIndex(_store(aws, stack), 384)
    two = PersistentIndex(_store(aws, stack), 384)
    assert len(one) == len(two) == 1

    one.upsert("1", _unit(1), {"status_category": "open", "created_at": 100})
    two.upsert("2", _unit(2), {"status_category": "open", "created_at": 100})
    two.delete("0")
    one.flush()
    two.flush()

    final = PersistentIndex(_store(aws, stack), 384)
    assert sorted(final.index.ids()) == ["1", "2"]


def test_refresh_picks_up_another_containers_save(aws, stack) -> None:
    reader = PersistentIndex(_store(aws, stack), 384)
    assert len(reader) == 0
    writer = PersistentIndex(_store(aws, stack), 384)
    writer.upsert("7", _unit(7), {"status_category": "open", "created_at": 100})
    writer.flush()

    reader.refresh()

    assert "7" in reader.index


def test_flush_prunes_entries_that_no_longer_qualify(aws, stack) -> None:
    index = PersistentIndex(_store(aws, stack), 384)
    index.upsert("old", _unit(1), {"status_category": "open", "created_at": 10})
    index.upsert("new", _unit(2), {"status_category": "open", "created_at": 1000})

    index.flush({"created_at": Range(gte=500)})

    assert PersistentIndex(_store(aws, stack), 384).index.ids() == ["new"]
