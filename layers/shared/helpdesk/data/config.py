"""Configuration repository: teams, agents, policies, calendars, macros and other settings.

Each kind lives in its own partition (CONFIG#<kind>), one item per id, stored as a JSON-like map.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from helpdesk.data import keys
from helpdesk.data.items import from_item, to_item
from helpdesk.exceptions import NotFoundError

M = TypeVar("M", bound=BaseModel)


class ConfigRepository:
    """Reads and writes configuration items. Takes a boto3 Table resource from the caller."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def put(self, kind: str, item_id: str, model: BaseModel) -> None:
        """Store `model` as the `kind` item `item_id`, replacing any earlier one."""
        self._table.put_item(
            Item=to_item(model, PK=keys.config_pk(kind), SK=item_id, entity=f"config:{kind}")
        )

    def get(self, kind: str, item_id: str, model: type[M]) -> M:
        """The `kind` item `item_id`; raises NotFoundError."""
        item = self._table.get_item(Key={"PK": keys.config_pk(kind), "SK": item_id}).get("Item")
        if item is None:
            raise NotFoundError(f"{kind} {item_id} does not exist")
        return model.model_validate(from_item(item))

    def list(self, kind: str, model: type[M]) -> list[M]:
        """Every item of `kind`, ordered by id."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": keys.config_pk(kind)},
        }
        while True:
            response = self._table.query(**kwargs)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return [model.model_validate(from_item(item)) for item in items]

    def delete(self, kind: str, item_id: str) -> None:
        self._table.delete_item(Key={"PK": keys.config_pk(kind), "SK": item_id})
