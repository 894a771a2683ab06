"""The desk's state as one JSON document: every table item and every stored object.

Items keep DynamoDB's typed form (binary values as base64), objects their bytes as base64, so
that an import restores exactly what was exported. The local stack adds, when it saves on
shutdown, what was still in flight (`in_flight`: stream records triage has not had, queued
outbound mail); `import_state` leaves that part to the stack.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

FORMAT = "helpdesk-local-state/1"


def export_state(session: Any, tables: dict[str, str], buckets: dict[str, str]) -> dict[str, Any]:
    """The items of `tables` and the objects of `buckets` (both by logical id) as a document."""
    dynamodb = session.client("dynamodb")
    s3 = session.client("s3")
    document: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": datetime.now(UTC).isoformat(),
        "tables": {},
        "buckets": {},
    }
    for logical_id, name in tables.items():
        items: list[Any] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            items.extend(_encode(item) for item in page["Items"])
        document["tables"][logical_id] = items
    for logical_id, name in buckets.items():
        objects = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for entry in page.get("Contents", []):
                response = s3.get_object(Bucket=name, Key=entry["Key"])
                objects.append(
                    {
                        "key": entry["Key"],
                        "content_type": response.get("ContentType"),
                        "metadata": response.get("Metadata", {}),
                        "body": base64.b64encode(response["Body"].read()).decode("ascii"),
                    }
                )
        document["buckets"][logical_id] = objects
    return document


def import_state(
    session: Any, document: dict[str, Any], tables: dict[str, str], buckets: dict[str, str]
) -> dict[str, int]:
    """Write a document's items and objects into `tables` and `buckets` (by logical id);
    returns how many of each were written. Raises ValueError for a document of another format.
    """
    if document.get("format") != FORMAT:
        raise ValueError(f"not a local state document (format {document.get('format')!r})")
    dynamodb = session.client("dynamodb")
    s3 = session.client("s3")
    counts = {"items": 0, "objects": 0}
    for logical_id, items in document.get("tables", {}).items():
        name = tables.get(logical_id)
        if name is None:
            logger.warning("state names an unknown table", extra={"table": logical_id})
            continue
        for start in range(0, len(items), 25):
            chunk = [{"PutRequest": {"Item": _decode(item)}} for item in items[start : start + 25]]
            pending: dict[str, Any] = {name: chunk}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get(
                    "UnprocessedItems", {}
                )
            counts["items"] += len(chunk)
    for logical_id, objects in document.get("buckets", {}).items():
        bucket = buckets.get(logical_id)
        if bucket is None:
            logger.warning("state names an unknown bucket", extra={"bucket": logical_id})
            continue
        for entry in objects:
            kwargs: dict[str, Any] = {
                "Bucket": bucket,
                "Key": entry["key"],
                "Body": base64.b64decode(entry["body"]),
                "Metadata": entry.get("metadata") or {},
            }
            if entry.get("content_type"):
                kwargs["ContentType"] = entry["content_type"]
            s3.put_object(**kwargs)
            counts["objects"] += 1
    return counts


def save(document: dict[str, Any], path: Path) -> None:
    """Write `document` to `path` atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(json.dumps(document), encoding="utf-8")
    partial.replace(path)


def load(path: Path) -> dict[str, Any]:
    """The document stored at `path`; raises OSError or ValueError when it cannot be read."""
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path} does not hold a state document")
    return document


def _encode(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"__b64__": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {key: _encode(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_encode(inner) for inner in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__b64__"}:
            return base64.b64decode(value["__b64__"])
        return {key: _decode(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_decode(inner) for inner in value]
    return value
