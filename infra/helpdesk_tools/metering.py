"""Counts what a desk consumes, per AWS service, by listening to botocore's events.

Every AWS call the handlers make goes through boto3; a `Meter` attached to the session they use
sees each request and its response and counts what AWS would bill: DynamoDB read and write
units, S3 requests and bytes, SES mails and their size, EventBridge entries, SQS requests.
Lambda invocations and durations are recorded by whoever invokes the handlers.

DynamoDB capacity is computed from item sizes by DynamoDB's published rules, because the local
endpoint (moto) reports a constant ConsumedCapacity rather than a size-based one:
- a write costs ceil(item size / 1 KB) write units, and the same again for each global
  secondary index whose key attributes the item carries (ALL projection);
- a transactional write costs twice that;
- UpdateItem is sized from the key and the written values, a lower bound (AWS bills the larger
  of the item before and after);
- a read costs ceil(bytes read / 4 KB) read units for a strongly consistent read, half that for
  an eventually consistent one, twice that in a transaction; a Query or Scan sums the sizes of
  the items it returns before rounding.
"""

from __future__ import annotations

import base64
import json
import math
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

KB = 1024
SES_CHUNK = 256 * KB


@dataclass
class Usage:
    """What was consumed; every figure is a running total."""

    lambda_invocations: Counter[str] = field(default_factory=Counter)
    lambda_ms: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    lambda_billed_ms: Counter[str] = field(default_factory=Counter)
    dynamodb_read_units: float = 0.0
    dynamodb_write_units: float = 0.0
    dynamodb_requests: Counter[str] = field(default_factory=Counter)
    s3_requests: Counter[str] = field(default_factory=Counter)
    s3_bytes_put: int = 0
    ses_mails_in: int = 0
    ses_chunks_in: int = 0
    ses_mails_out: int = 0
    ses_bytes_out: int = 0
    eventbridge_events: int = 0
    sqs_requests: int = 0
    llm_input_tokens: int = 0
    llm_output_tokens: int = 0
    embedding_tokens: int = 0
    calls: Counter[str] = field(default_factory=Counter)


class Meter:
    """Attach to a boto3 session; read `usage` for the totals."""

    def __init__(self, gsi_keys: list[tuple[str, str]] | None = None) -> None:
        self.usage = Usage()
        self._lock = threading.Lock()
        self._gsi_keys = gsi_keys or [(f"GSI{n}PK", f"GSI{n}SK") for n in range(1, 5)]

    def attach(self, session: Any) -> None:
        """Listen to every call made through `session` (a boto3 or botocore session)."""
        events = (
            session.events if hasattr(session, "events") else session.get_component("event_emitter")
        )
        events.register("before-call", self._before_call)
        events.register("after-call", self._after_call)

    # -- recorded by the invoker ----------------------------------------------------------

    def record_invocation(self, function: str, duration_ms: float) -> None:
        """One Lambda invocation; billed in whole milliseconds, at least one."""
        with self._lock:
            self.usage.lambda_invocations[function] += 1
            self.usage.lambda_ms[function] += duration_ms
            self.usage.lambda_billed_ms[function] += max(1, math.ceil(duration_ms))

    def record_inbound_mail(self, size: int) -> None:
        """One mail received by SES, with its 256 KB chunks."""
        with self._lock:
            self.usage.ses_mails_in += 1
            self.usage.ses_chunks_in += max(1, math.ceil(size / SES_CHUNK))

    def record_llm(self, input_tokens: int, output_tokens: int) -> None:
        with self._lock:
            self.usage.llm_input_tokens += input_tokens
            self.usage.llm_output_tokens += output_tokens

    def record_embedding(self, tokens: int) -> None:
        with self._lock:
            self.usage.embedding_tokens += tokens

    # -- botocore events ------------------------------------------------------------------

    def _before_call(self, model: Any, params: dict[str, Any], **kwargs: Any) -> None:
        service = model.service_model.service_name
        operation = model.name
        body = params.get("body")
        context = kwargs.get("context")
        if service == "dynamodb" and isinstance(context, dict):
            context["meter_request"] = _request(params)
        with self._lock:
            self.usage.calls[f"{service}.{operation}"] += 1
            if service == "dynamodb":
                self.usage.dynamodb_requests[operation] += 1
                self.usage.dynamodb_write_units += self._write_units(operation, _request(params))
            elif service == "s3":
                self.usage.s3_requests[operation] += 1
                if operation == "PutObject" and body is not None:
                    self.usage.s3_bytes_put += _length(body)
            elif service in {"sesv2", "ses"} and operation in {"SendEmail", "SendRawEmail"}:
                self.usage.ses_mails_out += 1
                self.usage.ses_bytes_out += _ses_size(_request(params))
            elif service == "eventbridge" or service == "events":
                if operation == "PutEvents":
                    self.usage.eventbridge_events += len(_request(params).get("Entries", []))
            elif service == "sqs":
                self.usage.sqs_requests += 1

    def _after_call(self, model: Any, parsed: dict[str, Any], **kwargs: Any) -> None:
        if model.service_model.service_name != "dynamodb":
            return
        context = kwargs.get("context")
        request = context.get("meter_request", {}) if isinstance(context, dict) else {}
        with self._lock:
            self.usage.dynamodb_read_units += read_units(model.name, request, parsed)

    def _write_units(self, operation: str, request: dict[str, Any]) -> float:
        if operation == "PutItem":
            return self._item_write_units(request.get("Item", {}))
        if operation == "UpdateItem":
            written = dict(request.get("Key", {}))
            written.update(request.get("ExpressionAttributeValues", {}))
            return float(max(1, math.ceil(item_size(written) / KB)))
        if operation == "DeleteItem":
            return 1.0
        if operation == "BatchWriteItem":
            total = 0.0
            for requests in request.get("RequestItems", {}).values():
                for entry in requests:
                    item = entry.get("PutRequest", {}).get("Item")
                    total += self._item_write_units(item) if item else 1.0
            return total
        if operation == "TransactWriteItems":
            total = 0.0
            for action in request.get("TransactItems", []):
                if "Put" in action:
                    total += 2 * self._item_write_units(action["Put"]["Item"])
                elif "Update" in action:
                    written = dict(action["Update"].get("Key", {}))
                    written.update(action["Update"].get("ExpressionAttributeValues", {}))
                    total += 2 * max(1, math.ceil(item_size(written) / KB))
                else:
                    total += 2.0
            return total
        return 0.0

    def _item_write_units(self, item: dict[str, Any]) -> float:
        units = max(1, math.ceil(item_size(item) / KB))
        indexed = sum(1 for pk, _sk in self._gsi_keys if pk in item)
        return float(units * (1 + indexed))


def read_units(operation: str, request: dict[str, Any], parsed: dict[str, Any]) -> float:
    """Read units a DynamoDB read consumed, from the items it returned."""
    consistent = bool(request.get("ConsistentRead"))
    factor = 1.0 if consistent else 0.5
    if operation == "GetItem":
        size = item_size(parsed.get("Item", {}))
        return factor * max(1, math.ceil(size / (4 * KB)))
    if operation in {"Query", "Scan"}:
        size = sum(item_size(item) for item in parsed.get("Items", []))
        return factor * max(1, math.ceil(size / (4 * KB)))
    if operation == "BatchGetItem":
        total = 0.0
        for items in parsed.get("Responses", {}).values():
            total += sum(factor * max(1, math.ceil(item_size(i) / (4 * KB))) for i in items)
        return total
    if operation == "TransactGetItems":
        return sum(
            2.0 * max(1, math.ceil(item_size(r.get("Item", {})) / (4 * KB)))
            for r in parsed.get("Responses", [])
        )
    return 0.0


def item_size(item: dict[str, Any]) -> int:
    """An item's size by DynamoDB's rules: attribute names plus values, in wire format."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: Any) -> int:
    if not isinstance(value, dict) or len(value) != 1:
        return len(str(value).encode())
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return max(1, (len(str(inner).lstrip("-").replace(".", "")) + 1) // 2 + 1)
    if kind == "B":
        return len(inner) if isinstance(inner, bytes | bytearray) else len(base64.b64decode(inner))
    if kind in {"BOOL", "NULL"}:
        return 1
    if kind in {"SS", "NS", "BS"}:
        return sum(_value_size({kind[0]: element}) for element in inner)
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _value_size(v) for k, v in inner.items())
    return len(str(inner).encode())


def _request(params: dict[str, Any]) -> dict[str, Any]:
    """The JSON request body of a serialised call (DynamoDB, SES v2, EventBridge speak JSON)."""
    body = params.get("body")
    if isinstance(body, bytes | bytearray):
        try:
            decoded = json.loads(body or b"{}")
        except ValueError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    if isinstance(body, str):
        try:
            decoded = json.loads(body or "{}")
        except ValueError:
            return {}
        return decoded if isinstance(decoded, dict) else {}
    return body if isinstance(body, dict) else {}


def _length(body: Any) -> int:
    if isinstance(body, bytes | bytearray):
        return len(body)
    if isinstance(body, str):
        return len(body.encode())
    if hasattr(body, "seek") and hasattr(body, "tell"):
        position = body.tell()
        body.seek(0, 2)
        size = body.tell() - position
        body.seek(position)
        return int(size)
    return 0


def _ses_size(request: dict[str, Any]) -> int:
    raw = request.get("Content", {}).get("Raw", {}).get("Data")
    raw = raw or request.get("RawMessage", {}).get("Data")
    if isinstance(raw, str):
        return len(base64.b64decode(raw)) if raw else 0
    simple = request.get("Content", {}).get("Simple", {})
    return len(str(simple).encode())
