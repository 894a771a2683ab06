"""The OpenSearch k-NN adapter of the similarity index, for managed domains and Serverless.

Requests are signed with SigV4 (service `es` for a managed domain, `aoss` for Serverless). The
vectors are unit length and the field uses HNSW (Faiss) with `innerproduct`, which on unit
vectors orders exactly as cosine does; scores are converted back to cosine so the grouping
thresholds mean the same here and in the embedded index. Filters run inside the k-NN query
(Faiss efficient filtering), so k results come back when k entries pass the filter.

The index definition is `index_body(dimension)`; infra/opensearch/tickets-index.json is the
same body for 384 dimensions, for whoever creates the index by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from helpdesk.ai.index import Filters, Hit, Range, Scalar
from helpdesk.exceptions import IndexStoreError, ValidationError

logger = logging.getLogger(__name__)

VECTOR_FIELD = "vector"


def index_body(dimension: int) -> dict[str, Any]:
    """The settings and mappings of a ticket index with `dimension`-long vectors."""
    return {
        "settings": {"index": {"knn": True}},
        "mappings": {
            "dynamic_templates": [
                {
                    "strings_as_keywords": {
                        "match_mapping_type": "string",
                        "mapping": {"type": "keyword"},
                    }
                }
            ],
            "properties": {
                VECTOR_FIELD: {
                    "type": "knn_vector",
                    "dimension": dimension,
                    "method": {
                        "name": "hnsw",
                        "engine": "faiss",
                        "space_type": "innerproduct",
                        "parameters": {"m": 16, "ef_construction": 128},
                    },
                },
                "number": {"type": "long"},
                "requester": {"type": "keyword"},
                "status": {"type": "keyword"},
                "status_category": {"type": "keyword"},
                "created_at": {"type": "long"},
                "category": {"type": "keyword"},
                "incident_of": {"type": "long"},
                "incident": {"type": "boolean"},
                "subject": {"type": "text"},
            },
        },
    }


def cosine_from_score(score: float) -> float:
    """The cosine similarity behind a Faiss `innerproduct` score on unit vectors.

    OpenSearch scores an inner product p as p + 1 when p > 0, else 1 / (1 - p).
    """
    return score - 1.0 if score >= 1.0 else 1.0 - 1.0 / score if score > 0 else -1.0


def filter_clauses(filters: Filters | None) -> list[dict[str, Any]]:
    """The filter as OpenSearch query clauses: term, terms or range per field."""
    clauses: list[dict[str, Any]] = []
    for name, wanted in (filters or {}).items():
        if isinstance(wanted, Range):
            bounds = {
                key: value
                for key, value in (("gte", wanted.gte), ("lte", wanted.lte))
                if value is not None
            }
            clauses.append({"range": {name: bounds}})
        elif isinstance(wanted, list | tuple | set | frozenset):
            clauses.append({"terms": {name: sorted(wanted, key=str)}})
        else:
            clauses.append({"term": {name: wanted}})
    return clauses


class OpenSearchIndex:
    """A SimilarityIndex over an OpenSearch index. Takes an `opensearchpy.OpenSearch` client."""

    def __init__(self, client: Any, index: str, dimension: int) -> None:
        self._client = client
        self._index = index
        self.dimension = dimension

    def ensure_index(self) -> bool:
        """Create the index if it does not exist; returns True when it was created."""
        try:
            if self._client.indices.exists(index=self._index):
                return False
            self._client.indices.create(index=self._index, body=index_body(self.dimension))
        except Exception as error:  # opensearchpy's TransportError family and connection errors
            raise IndexStoreError(f"cannot create the OpenSearch index: {error}") from error
        logger.info("opensearch index created", extra={"index": self._index})
        return True

    def upsert(self, id: str, vector: np.ndarray, metadata: Mapping[str, Scalar]) -> None:
        """Index (create or replace) the document `id`; raises IndexStoreError."""
        document = {**dict(metadata), VECTOR_FIELD: self._list(vector)}
        try:
            self._client.index(index=self._index, id=id, body=document)
        except Exception as error:  # opensearchpy's TransportError family
            raise IndexStoreError(f"cannot index document {id}: {error}") from error

    def delete(self, id: str) -> None:
        """Delete the document `id`; a missing document is not an error."""
        from opensearchpy.exceptions import NotFoundError

        try:
            self._client.delete(index=self._index, id=id)
        except NotFoundError:
            return
        except Exception as error:  # opensearchpy's TransportError family
            raise IndexStoreError(f"cannot delete document {id}: {error}") from error

    def update_metadata(self, id: str, metadata: Mapping[str, Scalar]) -> bool:
        """Merge `metadata` into the document `id`; returns False when it does not exist."""
        from opensearchpy.exceptions import NotFoundError

        try:
            self._client.update(index=self._index, id=id, body={"doc": dict(metadata)})
        except NotFoundError:
            return False
        except Exception as error:  # opensearchpy's TransportError family
            raise IndexStoreError(f"cannot update document {id}: {error}") from error
        return True

    def query(self, vector: np.ndarray, k: int = 10, filters: Filters | None = None) -> list[Hit]:
        """At most `k` hits, best first, scores converted to cosine; raises IndexStoreError."""
        knn: dict[str, Any] = {"vector": self._list(vector), "k": k}
        clauses = filter_clauses(filters)
        if clauses:
            knn["filter"] = {"bool": {"filter": clauses}}
        body = {
            "size": k,
            "_source": {"excludes": [VECTOR_FIELD]},
            "query": {"knn": {VECTOR_FIELD: knn}},
        }
        try:
            response = self._client.search(index=self._index, body=body)
        except Exception as error:  # opensearchpy's TransportError family
            raise IndexStoreError(f"k-NN query failed: {error}") from error
        hits = response.get("hits", {}).get("hits", [])
        return [
            Hit(
                id=str(hit["_id"]),
                score=round(cosine_from_score(float(hit["_score"])), 6),
                metadata={
                    key: value
                    for key, value in (hit.get("_source") or {}).items()
                    if key != VECTOR_FIELD
                },
            )
            for hit in hits
        ]

    def _list(self, vector: np.ndarray) -> list[float]:
        array = np.asarray(vector, dtype=np.float32).reshape(-1)
        if array.shape != (self.dimension,):
            raise ValidationError(
                f"vector has {array.shape[0]} dimensions, the index {self.dimension}",
                field="vector",
            )
        return [float(value) for value in array]


def opensearch_client(
    endpoint: str, *, service: str, region: str, credentials: Any, timeout: float = 10.0
) -> Any:
    """An `opensearchpy.OpenSearch` client for `endpoint` (a host name or a URL), signing every
    request with SigV4 for `service` (`es` or `aoss`). Raises ValidationError for an empty
    endpoint or another service name."""
    from opensearchpy import AWSV4SignerAuth, OpenSearch, RequestsHttpConnection

    if not endpoint:
        raise ValidationError("HELPDESK_OPENSEARCH_ENDPOINT is empty", field="opensearch_endpoint")
    if service not in {"es", "aoss"}:
        raise ValidationError("the SigV4 service must be es or aoss", field="opensearch_service")
    url = endpoint if "://" in endpoint else f"https://{endpoint}"
    return OpenSearch(
        hosts=[url],
        http_auth=AWSV4SignerAuth(credentials, region, service),
        connection_class=RequestsHttpConnection,
        verify_certs=url.startswith("https://"),
        timeout=timeout,
        max_retries=2,
        retry_on_timeout=True,
    )
