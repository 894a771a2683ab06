"""The OpenSearch index definition in infra/ is the one the adapter creates."""

from __future__ import annotations

import json
from pathlib import Path

from helpdesk.ai.index import Range
from helpdesk.ai.opensearch import filter_clauses, index_body

ROOT = Path(__file__).resolve().parents[3]


def test_infra_mapping_equals_the_adapters_index_body_for_minilm() -> None:
    stored = json.loads((ROOT / "infra/opensearch/tickets-index.json").read_text())

    assert stored == index_body(384)


def test_filters_become_term_terms_and_range_clauses() -> None:
    clauses = filter_clauses({"status": "open", "team": ("b", "a"), "created_at": Range(lte=5)})

    assert clauses == [
        {"term": {"status": "open"}},
        {"terms": {"team": ["a", "b"]}},
        {"range": {"created_at": {"lte": 5}}},
    ]
