"""Knowledge-base models: articles, their versions, drafts from agents and search hits."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

ARTICLE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
MAX_TITLE = 500
MAX_BODY = 200_000


class Visibility(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class BodyFormat(StrEnum):
    MARKDOWN = "markdown"
    HTML = "html"


class Audience(StrEnum):
    """Who searches: customers see public articles only; agents see internal ones too."""

    CUSTOMER = "customer"
    AGENT = "agent"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ArticleDraft(_Model):
    """What an agent or an import sends to create or update an article."""

    title: str = Field(min_length=1, max_length=MAX_TITLE)
    body: str = Field(default="", max_length=MAX_BODY)
    body_format: BodyFormat = BodyFormat.MARKDOWN
    tags: list[str] = Field(default_factory=list)
    visibility: Visibility = Visibility.PUBLIC
    locale: str = "en"

    @field_validator("title")
    @classmethod
    def _strip_title(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("a title is required")
        return value

    @field_validator("tags")
    @classmethod
    def _normalise_tags(cls, value: list[str]) -> list[str]:
        seen: list[str] = []
        for tag in value:
            tag = " ".join(tag.strip().lower().split())
            if tag and tag not in seen:
                seen.append(tag)
        return seen

    @field_validator("locale")
    @classmethod
    def _normalise_locale(cls, value: str) -> str:
        value = value.strip().replace("_", "-").lower() or "en"
        if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", value):
            raise ValueError("a locale looks like en or pt-br")
        return value


class Article(ArticleDraft):
    """The current version of an article; `body` is stored sanitised."""

    id: str
    version: int = 1
    created_at: datetime
    updated_at: datetime
    author: str = ""

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not ARTICLE_ID.match(value):
            raise ValueError("an article id is 1-64 of a-z, 0-9, - and _, starting alnum")
        return value

    def draft(self) -> ArticleDraft:
        """The editable fields of this article."""
        return ArticleDraft.model_validate(self.model_dump(include=set(ArticleDraft.model_fields)))


class ArticleVersion(Article):
    """One stored version; `deleted` marks the tombstone written when an article is deleted."""

    deleted: bool = False


class SearchDoc(_Model):
    """What search needs of an article: its plain text, filters, passages and their vectors."""

    id: str
    title: str
    text: str
    tags: list[str] = Field(default_factory=list)
    visibility: Visibility = Visibility.PUBLIC
    locale: str = "en"
    version: int = 1
    passages: list[str] = Field(default_factory=list)
    # Base64 of little-endian float32 vectors, one row per passage (each prefixed with the
    # title when embedded), unit length; None when the article was stored without an embedder.
    vectors: str | None = None
    model_id: str | None = None


class SearchHit(_Model):
    """One article found by search, with the scores that put it there."""

    id: str
    title: str
    url: str
    excerpt: str
    score: float
    keyword_score: float = 0.0
    semantic_score: float | None = None
    visibility: Visibility = Visibility.PUBLIC
