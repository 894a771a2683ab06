"""The OpenSearch adapter, through opensearch-py with SigV4, against recorded response shapes.

A loopback HTTP server answers each request with a response recorded from OpenSearch's
documentation (fixtures/opensearch/README.md says which) and keeps every request, so these
tests check what the adapter sends and how it reads what comes back. What a real cluster does
with the requests (HNSW recall, filtered search, Serverless quirks) stays unverified here.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.credentials import Credentials

from helpdesk.ai.index import Range
from helpdesk.ai.opensearch import OpenSearchIndex, cosine_from_score, opensearch_client
from helpdesk.exceptions import IndexStoreError

FIXTURES = Path(__file__).parent / "fixtures" / "opensearch"
INDEX = "helpdesk-tickets"


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


class RecordedOpenSearch:
    """Answers OpenSearch REST calls on 127.0.0.1 with recorded bodies; keeps the requests."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.routes: list[tuple[str, re.Pattern[str], int, dict[str, Any] | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                server.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": json.loads(raw) if raw else None,
                    }
                )
                status, body = server.route(self.command, self.path)
                payload = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("content-type", "application/json; charset=UTF-8")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def on(self, method: str, path: str, status: int, fixture: str | None) -> None:
        body = _fixture(fixture) if fixture else None
        self.routes.insert(0, (method, re.compile(path), status, body))

    def route(self, method: str, path: str) -> tuple[int, dict[str, Any] | None]:
        for wanted, pattern, status, body in self.routes:
            if wanted == method and pattern.fullmatch(path.split("?")[0]):
                return status, body
        return 400, {"error": "no recorded response", "status": 400}

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def recorded() -> Iterator[RecordedOpenSearch]:
    server = RecordedOpenSearch()
    yield server
    server.close()


def _index(recorded: RecordedOpenSearch, service: str = "aoss") -> OpenSearchIndex:
    client = opensearch_client(
        recorded.url,
        service=service,
        region="eu-west-1",
        credentials=Credentials("AKIDEXAMPLE", "secret-example"),
        timeout=2.0,
    )
    return OpenSearchIndex(client, INDEX, dimension=4)


def _unit(*values: float) -> np.ndarray:
    vector = np.zeros(4, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


def test_the_filtered_query_is_a_knn_clause_with_the_filter_inside(recorded) -> None:
    recorded.on("POST", f"/{INDEX}/_search", 200, "search_knn_filtered")
    index = _index(recorded)

    hits = index.query(
        _unit(1, 0),
        k=5,
        filters={"status_category": ["open", "pending"], "created_at": Range(gte=1777000000)},
    )

    body = recorded.requests[0]["body"]
    knn = body["query"]["knn"]["vector"]
    assert knn["k"] == 5 and body["size"] == 5
    assert knn["vector"] == pytest.approx([1.0, 0.0, 0.0, 0.0])
    assert knn["filter"] == {
        "bool": {
            "filter": [
                {"terms": {"status_category": ["open", "pending"]}},
                {"range": {"created_at": {"gte": 1777000000}}},
            ]
        }
    }
    assert body["_source"] == {"excludes": ["vector"]}
    assert [(hit.id, hit.score) for hit in hits] == [("41", 0.92), ("17", 0.41)]
    assert hits[0].metadata["requester"] == "ada@example.org"


def test_every_request_is_signed_for_the_configured_service(recorded) -> None:
    recorded.on("POST", f"/{INDEX}/_search", 200, "search_knn_filtered")

    _index(recorded, service="aoss").query(_unit(1), k=2)
    _index(recorded, service="es").query(_unit(1), k=2)

    aoss, es = (request["headers"] for request in recorded.requests)
    assert aoss["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/aoss/aws4_request" in aoss["authorization"]
    assert "/eu-west-1/es/aws4_request" in es["authorization"]
    assert "x-amz-content-sha256" in aoss


def test_upsert_puts_the_document_with_its_vector_under_the_ticket_id(recorded) -> None:
    recorded.on("PUT", f"/{INDEX}/_doc/41", 201, "index_created")

    _index(recorded).upsert("41", _unit(0, 1), {"number": 41, "status_category": "open"})

    request = recorded.requests[0]
    assert (request["method"], request["path"].split("?")[0]) == ("PUT", f"/{INDEX}/_doc/41")
    assert request["body"] == {
        "number": 41,
        "status_category": "open",
        "vector": pytest.approx([0.0, 1.0, 0.0, 0.0]),
    }


def test_metadata_update_and_delete_tolerate_a_missing_document(recorded) -> None:
    recorded.on("POST", f"/{INDEX}/_update/41", 200, "update_updated")
    recorded.on("POST", f"/{INDEX}/_update/99", 404, "update_missing")
    recorded.on("DELETE", f"/{INDEX}/_doc/41", 200, "delete_deleted")
    recorded.on("DELETE", f"/{INDEX}/_doc/99", 404, "delete_not_found")
    index = _index(recorded)

    assert index.update_metadata("41", {"status_category": "closed"}) is True
    assert index.update_metadata("99", {"status_category": "closed"}) is False
    index.delete("41")
    index.delete("99")

    assert recorded.requests[0]["body"] == {"doc": {"status_category": "closed"}}
    assert [r["method"] for r in recorded.requests] == ["POST", "POST", "DELETE", "DELETE"]


def test_ensure_index_creates_it_with_the_knn_mapping_only_when_absent(recorded) -> None:
    recorded.on("HEAD", f"/{INDEX}", 404, None)
    recorded.on("PUT", f"/{INDEX}", 200, "create_index")
    index = _index(recorded)

    assert index.ensure_index() is True
    recorded.on("HEAD", f"/{INDEX}", 200, None)
    assert index.ensure_index() is False

    created = recorded.requests[1]["body"]
    vector = created["mappings"]["properties"]["vector"]
    assert created["settings"]["index"]["knn"] is True
    assert vector["type"] == "knn_vector" and vector["dimension"] == 4
    assert vector["method"]["name"] == "hnsw"
    assert vector["method"]["space_type"] == "innerproduct"


def test_a_server_error_becomes_an_index_store_error(recorded) -> None:
    recorded.on("POST", f"/{INDEX}/_search", 403, None)

    with pytest.raises(IndexStoreError):
        _index(recorded).query(_unit(1), k=1)


@pytest.mark.parametrize(("score", "cosine"), [(1.92, 0.92), (1.0, 0.0), (0.5, -1.0), (0.8, -0.25)])
def test_innerproduct_scores_convert_back_to_cosine(score: float, cosine: float) -> None:
    assert cosine_from_score(score) == pytest.approx(cosine)
