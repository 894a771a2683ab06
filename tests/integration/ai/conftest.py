"""Fixtures for the AI integration tests: one ONNX embedder per session, a Messages API stub."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from helpdesk.ai.embed import OnnxEmbedder, shared_onnx_embedder


@pytest.fixture(scope="session")
def embedder() -> OnnxEmbedder:
    """The process-wide MiniLM embedder; the model loads once for the whole session."""
    model = shared_onnx_embedder()
    model.load()
    return model


class MessagesStub:
    """A local HTTP server on 127.0.0.1 that speaks enough of the Anthropic Messages API.

    Queue replies with `reply_tool`, `reply_text`, `reply_error` or `reply_slow`; each POST
    takes the next one (the last one repeats). Every request is recorded with its headers.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._replies: list[tuple[int, dict[str, Any], float]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append(
                    {
                        "path": self.path,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "body": body,
                    }
                )
                status, payload, delay = stub._next()
                if delay:
                    time.sleep(delay)
                raw = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _next(self) -> tuple[int, dict[str, Any], float]:
        if not self._replies:
            return 500, _error("api_error", "no reply queued"), 0.0
        return self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]

    def reply_tool(self, tool_input: dict[str, Any], name: str = "record_triage") -> None:
        content = [{"type": "tool_use", "id": "toolu_01stub", "name": name, "input": tool_input}]
        self._replies.append((200, _message(content, "tool_use"), 0.0))

    def reply_text(self, text: str) -> None:
        self._replies.append((200, _message([{"type": "text", "text": text}], "end_turn"), 0.0))

    def reply_error(self, status: int, kind: str) -> None:
        self._replies.append((status, _error(kind, "stubbed failure"), 0.0))

    def reply_slow(self, seconds: float, tool_input: dict[str, Any]) -> None:
        content = [
            {"type": "tool_use", "id": "toolu_01slow", "name": "record_triage", "input": tool_input}
        ]
        self._replies.append((200, _message(content, "tool_use"), seconds))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _message(content: list[dict[str, Any]], stop_reason: str) -> dict[str, Any]:
    # The documented shape of a Messages API response.
    return {
        "id": "msg_01stub",
        "type": "message",
        "role": "assistant",
        "model": "claude-haiku-4-5",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 120, "output_tokens": 40},
    }


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


@pytest.fixture
def messages_stub() -> Iterator[MessagesStub]:
    stub = MessagesStub()
    yield stub
    stub.close()


class StreamReader:
    """Reads a moto table's DynamoDB stream and hands out Lambda-shaped batches."""

    def __init__(self, session: Any, table_name: str) -> None:
        self._streams = session.client("dynamodbstreams")
        arn = session.client("dynamodb").describe_table(TableName=table_name)["Table"][
            "LatestStreamArn"
        ]
        shards = self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self._iterators = [
            self._streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for shard in shards
        ]

    def batch(self) -> dict[str, Any]:
        """Every record written since the last call, as a Lambda stream event."""
        records: list[dict[str, Any]] = []
        for position, iterator in enumerate(self._iterators):
            response = self._streams.get_records(ShardIterator=iterator)
            self._iterators[position] = response["NextShardIterator"]
            records.extend(response["Records"])
        for record in records:
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if hasattr(created, "timestamp"):
                record["dynamodb"]["ApproximateCreationDateTime"] = created.timestamp()
            record.setdefault("eventSourceARN", "arn:aws:dynamodb:us-east-1:123456789012:table/t")
        return {"Records": records}


@pytest.fixture
def stream(aws: Any, stack: Any) -> StreamReader:
    return StreamReader(aws, stack.tables["Table"])
