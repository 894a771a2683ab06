"""Article repository: current articles, every version, and the search documents, in one table.

| item | PK | SK |
|---|---|---|
| current article | KB#<id> | CURRENT |
| version n (a tombstone when deleted) | KB#<id> | V#<n, 6 digits> |
| search document (plain text, passages, vectors) | KBINDEX | <id> |
| generation (bumped by every write) | COUNTER | kb_generation |

Every write is one transaction over these items, so a reader never sees a current article
without its version, and a search cache can tell from one GetItem whether it is stale.
"""

from __future__ import annotations

import logging
from typing import Any

from botocore.exceptions import ClientError

from helpdesk.data.items import from_item, to_item
from helpdesk.exceptions import ConflictError, NotFoundError
from helpdesk.kb.models import Article, ArticleVersion, SearchDoc

logger = logging.getLogger(__name__)

CURRENT_SK = "CURRENT"
INDEX_PK = "KBINDEX"
GENERATION_KEY = {"PK": "COUNTER", "SK": "kb_generation"}
_SUMMARY_FIELDS = ("id", "title", "tags", "visibility", "locale", "version")


def article_pk(article_id: str) -> str:
    return f"KB#{article_id}"


def version_sk(number: int) -> str:
    return f"V#{number:06d}"


class ArticleRepository:
    """Reads and writes articles. Takes a boto3 DynamoDB Table resource from the caller."""

    def __init__(self, table: Any) -> None:
        self._table = table
        self._client = table.meta.client

    # -- writes ---------------------------------------------------------------------------

    def create(self, article: Article, doc: SearchDoc) -> Article:
        """Store a new article as version 1 with its search document.

        Raises ConflictError when an article with this id exists.
        """
        stored = article.model_copy(update={"version": 1})
        self._transact(
            [
                {"Put": {**self._put(self._current_item(stored)), **_absent()}},
                {"Put": self._put(self._version_item(ArticleVersion(**stored.model_dump())))},
                {"Put": self._put(self._doc_item(doc, 1))},
                self._bump(),
            ],
            conflict=f"article {article.id} already exists",
        )
        return stored

    def update(self, expected_version: int, article: Article, doc: SearchDoc) -> Article:
        """Store `article` as the next version if the current one is still `expected_version`.

        Raises ConflictError when another writer changed (or deleted) it first.
        """
        stored = article.model_copy(update={"version": expected_version + 1})
        self._transact(
            [
                {"Put": {**self._put(self._current_item(stored)), **_version_is(expected_version)}},
                {"Put": self._put(self._version_item(ArticleVersion(**stored.model_dump())))},
                {"Put": self._put(self._doc_item(doc, stored.version))},
                self._bump(),
            ],
            conflict=f"article {article.id} changed since version {expected_version}",
        )
        return stored

    def delete(self, tombstone: ArticleVersion, expected_version: int) -> None:
        """Remove the current article and its search document; keep its history, ending in
        `tombstone`. Raises ConflictError when the stored version is not `expected_version`."""
        pk = article_pk(tombstone.id)
        self._transact(
            [
                {
                    "Delete": {
                        "TableName": self._table.name,
                        "Key": {"PK": pk, "SK": CURRENT_SK},
                        **_version_is(expected_version),
                    }
                },
                {"Delete": {"TableName": self._table.name, "Key": _index_key(tombstone.id)}},
                {"Put": self._put(self._version_item(tombstone))},
                self._bump(),
            ],
            conflict=f"article {tombstone.id} changed since version {expected_version}",
        )

    # -- reads ----------------------------------------------------------------------------

    def get(self, article_id: str) -> Article:
        """The current version of an article; raises NotFoundError."""
        item = self._table.get_item(
            Key={"PK": article_pk(article_id), "SK": CURRENT_SK}, ConsistentRead=True
        ).get("Item")
        if item is None:
            raise NotFoundError(f"article {article_id} does not exist")
        return Article.model_validate(_drop(from_item(item), "current"))

    def versions(self, article_id: str) -> list[ArticleVersion]:
        """Every stored version of an article, oldest first (empty when it never existed)."""
        items = self._query_all(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :v)",
            ExpressionAttributeValues={":pk": article_pk(article_id), ":v": "V#"},
        )
        return [ArticleVersion.model_validate(from_item(item)) for item in items]

    def summaries(self) -> list[SearchDoc]:
        """Every current article's id, title, tags, visibility, locale and version, by id,
        without text or vectors."""
        items = self._query_all(
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": INDEX_PK},
            ProjectionExpression=", ".join(f"#{name}" for name in _SUMMARY_FIELDS),
            ExpressionAttributeNames={f"#{name}": name for name in _SUMMARY_FIELDS},
        )
        return [SearchDoc.model_validate({"text": "", **from_item(item)}) for item in items]

    def search_docs(self) -> list[SearchDoc]:
        """Every current article's search document, vectors included, by id."""
        items = self._query_all(
            KeyConditionExpression="PK = :pk", ExpressionAttributeValues={":pk": INDEX_PK}
        )
        return [_doc(item) for item in items]

    def generation(self) -> int:
        """A number that changes whenever any article is written (0 before the first)."""
        item = self._table.get_item(Key=GENERATION_KEY).get("Item")
        return int(item["value"]) if item else 0

    # -- items ----------------------------------------------------------------------------

    def _current_item(self, article: Article) -> dict[str, Any]:
        return to_item(article, PK=article_pk(article.id), SK=CURRENT_SK, entity="kb_article")

    def _version_item(self, version: ArticleVersion) -> dict[str, Any]:
        return to_item(
            version, PK=article_pk(version.id), SK=version_sk(version.version), entity="kb_version"
        )

    def _doc_item(self, doc: SearchDoc, version: int) -> dict[str, Any]:
        # NOTE: the text is not stored when passages are: they hold the same words, and an
        # item must stay under 400 KB. `_doc` joins them back.
        text = "" if doc.passages else doc.text
        stored = doc.model_copy(update={"version": version, "text": text})
        return to_item(stored, PK=INDEX_PK, SK=doc.id, entity="kb_search")

    def _put(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"TableName": self._table.name, "Item": item}

    def _bump(self) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table.name,
                "Key": GENERATION_KEY,
                "UpdateExpression": "ADD #v :one",
                "ExpressionAttributeNames": {"#v": "value"},
                "ExpressionAttributeValues": {":one": 1},
            }
        }

    # -- plumbing -------------------------------------------------------------------------

    def _transact(self, actions: list[dict[str, Any]], *, conflict: str) -> None:
        try:
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in error.response.get("CancellationReasons", [])]
            if not reasons or reasons[0] == "ConditionalCheckFailed":
                raise ConflictError(conflict) from error
            raise

    def _query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            response = self._table.query(**kwargs)
            items.extend(response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                return items
            kwargs["ExclusiveStartKey"] = last


def _doc(item: dict[str, Any]) -> SearchDoc:
    doc = SearchDoc.model_validate(from_item(item))
    if not doc.text and doc.passages:
        doc.text = "\n".join(doc.passages)
    return doc


def _index_key(article_id: str) -> dict[str, str]:
    return {"PK": INDEX_PK, "SK": article_id}


def _absent() -> dict[str, str]:
    return {"ConditionExpression": "attribute_not_exists(PK)"}


def _version_is(expected: int) -> dict[str, Any]:
    return {
        "ConditionExpression": "#ver = :expected",
        "ExpressionAttributeNames": {"#ver": "version"},
        "ExpressionAttributeValues": {":expected": expected},
    }


def _drop(doc: dict[str, Any], *names: str) -> dict[str, Any]:
    return {key: value for key, value in doc.items() if key not in names}
