"""Conversion between pydantic models and DynamoDB items (Decimals in, ints and floats out)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pydantic import BaseModel


def to_item(model: BaseModel, **keys: Any) -> dict[str, Any]:
    """The model as a DynamoDB item: JSON types, floats as Decimal, None values left out."""
    doc = json.loads(model.model_dump_json(exclude_none=True), parse_float=Decimal)
    doc.update(keys)
    return doc


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain Python values, key attributes removed."""
    return {
        name: _plain(value)
        for name, value in item.items()
        if not (name in {"PK", "SK", "entity", "ttl"} or name.startswith("GSI"))
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list | set | tuple):
        return [_plain(inner) for inner in value]
    return value
