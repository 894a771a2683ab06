"""The desk's state as JSON: an export imported into a fresh stack gives back the same desk."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from helpdesk_tools.local import state
from helpdesk_tools.template import create_stack


def _scan(aws: Any, table: str) -> list[dict[str, Any]]:
    items = aws.client("dynamodb").scan(TableName=table)["Items"]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def _objects(aws: Any, bucket: str) -> dict[str, bytes]:
    s3 = aws.client("s3")
    listing = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {
        entry["Key"]: s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"].read()
        for entry in listing
    }


def test_export_then_import_into_a_fresh_stack_round_trips(
    aws: Any, stack: Any, table: Any, tmp_path: Path
) -> None:
    table.put_item(
        Item={
            "PK": "TICKET#1",
            "SK": "TICKET",
            "subject": "Café ☕ closed",
            "version": 3,
            "tags": {"billing", "vip"},
            "blob": b"\x00\xffraw",
            "nested": {"score": "0.25", "list": [1, "two", None]},
        }
    )
    table.put_item(Item={"PK": "COUNTER", "SK": "ticket", "v": 1})
    s3 = aws.client("s3")
    s3.put_object(Bucket=stack.buckets["MailBucket"], Key="inbound/abc", Body=b"From: a\r\n\r\nhi")
    s3.put_object(
        Bucket=stack.buckets["AttachmentBucket"],
        Key="attachments/1/photo.png",
        Body=bytes(range(256)),
        ContentType="image/png",
        Metadata={"ticket": "1"},
    )
    path = tmp_path / "desk.json"

    state.save(state.export_state(aws, stack.tables, stack.buckets), path)
    fresh = create_stack(aws, prefix=f"t{uuid.uuid4().hex[:10]}")
    counts = state.import_state(aws, state.load(path), fresh.tables, fresh.buckets)

    assert counts == {"items": 2, "objects": 2}
    assert _scan(aws, fresh.tables["Table"]) == _scan(aws, stack.tables["Table"])
    for logical_id in ("MailBucket", "AttachmentBucket"):
        assert _objects(aws, fresh.buckets[logical_id]) == _objects(aws, stack.buckets[logical_id])
    photo = s3.head_object(Bucket=fresh.buckets["AttachmentBucket"], Key="attachments/1/photo.png")
    assert photo["ContentType"] == "image/png"
    assert photo["Metadata"] == {"ticket": "1"}


def test_a_document_of_another_format_is_refused(aws: Any, stack: Any) -> None:
    with pytest.raises(ValueError, match="not a local state document"):
        state.import_state(aws, {"tables": {}}, stack.tables, stack.buckets)
