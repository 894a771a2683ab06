"""The knowledge-base service: article CRUD with versions, imports, and search for both audiences.

Vectors are computed when an article is written (title and passages, stored with its search
document), so a query costs one embedding. The search index is cached per process and rebuilt
when the KB's generation counter moves.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from helpdesk.exceptions import ConflictError, HelpdeskError, NotFoundError, ValidationError
from helpdesk.kb.models import (
    Article,
    ArticleDraft,
    ArticleVersion,
    Audience,
    SearchDoc,
    SearchHit,
    Visibility,
)
from helpdesk.kb.repository import ArticleRepository
from helpdesk.kb.search import (
    KbSearchIndex,
    Retrieval,
    embed_passages,
    encode_vectors,
    hits_from,
)
from helpdesk.kb.text import passages, plain_text, sanitise

if TYPE_CHECKING:
    from helpdesk.ai.embed import Embedder

logger = logging.getLogger(__name__)

EmbedderSource = Callable[[], "Embedder | None"]


@dataclass
class ImportReport:
    """What an import did, article by article."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class KnowledgeBase:
    """Articles and search. Takes its repository and, optionally, a source of the embedder
    (called only when vectors are needed, so the keyword path never loads a model)."""

    def __init__(
        self,
        repository: ArticleRepository,
        *,
        embedder: EmbedderSource | None = None,
        base_url: str = "/help/articles",
    ) -> None:
        self._repository = repository
        self._embedder_source = embedder
        self.base_url = base_url
        self._index: KbSearchIndex | None = None
        self._generation = -1
        self._lock = threading.Lock()

    # -- articles -------------------------------------------------------------------------

    def create(
        self, draft: ArticleDraft, *, now: datetime, author: str, article_id: str | None = None
    ) -> Article:
        """Store a new article (version 1); returns it.

        Raises ValidationError for a bad id and ConflictError when the id is taken.
        """
        article = _validated(
            lambda: Article(
                **_clean(draft).model_dump(),
                id=article_id or new_article_id(draft.title),
                version=1,
                created_at=now,
                updated_at=now,
                author=author,
            )
        )
        stored = self._repository.create(article, self._search_doc(article))
        logger.info("article created", extra={"article_id": stored.id})
        return stored

    def update(
        self,
        article_id: str,
        draft: ArticleDraft,
        *,
        now: datetime,
        author: str,
        expected_version: int | None = None,
    ) -> Article:
        """Store `draft` as the article's next version; returns it.

        With `expected_version`, raises ConflictError when the stored version differs. Raises
        NotFoundError for an unknown article.
        """
        current = self._repository.get(article_id)
        if expected_version is not None and expected_version != current.version:
            raise ConflictError(
                f"article {article_id} is at version {current.version}, not {expected_version}"
            )
        article = current.model_copy(
            update={**_clean(draft).model_dump(), "updated_at": now, "author": author}
        )
        stored = self._repository.update(current.version, article, self._search_doc(article))
        logger.info("article updated", extra={"article_id": article_id, "version": stored.version})
        return stored

    def delete(
        self, article_id: str, *, now: datetime, author: str, expected_version: int | None = None
    ) -> None:
        """Remove an article from the KB and from search; its history stays readable.

        Raises NotFoundError for an unknown article, ConflictError for a stale version.
        """
        current = self._repository.get(article_id)
        if expected_version is not None and expected_version != current.version:
            raise ConflictError(
                f"article {article_id} is at version {current.version}, not {expected_version}"
            )
        tombstone = ArticleVersion(
            **current.model_dump(exclude={"version", "updated_at", "author"}),
            version=current.version + 1,
            updated_at=now,
            author=author,
            deleted=True,
        )
        self._repository.delete(tombstone, current.version)
        logger.info("article deleted", extra={"article_id": article_id})

    def get(self, article_id: str, *, audience: Audience) -> Article:
        """The current article; raises NotFoundError, also for an internal article asked for by
        a customer (customers are never told that it exists)."""
        article = self._repository.get(article_id)
        if audience == Audience.CUSTOMER and article.visibility != Visibility.PUBLIC:
            raise NotFoundError(f"article {article_id} does not exist")
        return article

    def history(self, article_id: str) -> list[ArticleVersion]:
        """Every version, oldest first; raises NotFoundError when the article never existed."""
        versions = self._repository.versions(article_id)
        if not versions:
            raise NotFoundError(f"article {article_id} does not exist")
        return versions

    def articles(self, *, audience: Audience) -> list[SearchDoc]:
        """Summaries of the current articles `audience` may see, by id."""
        return [
            doc
            for doc in self._repository.summaries()
            if audience == Audience.AGENT or doc.visibility == Visibility.PUBLIC
        ]

    def import_articles(
        self, items: Iterable[tuple[str, ArticleDraft]], *, now: datetime, author: str
    ) -> ImportReport:
        """Create or update each (id, draft); an article whose fields did not change keeps its
        version. One failing article is reported and never stops the others."""
        report = ImportReport()
        for article_id, draft in items:
            try:
                try:
                    current = self._repository.get(article_id)
                except NotFoundError:
                    self.create(draft, now=now, author=author, article_id=article_id)
                    report.created.append(article_id)
                    continue
                if current.draft() == _clean(draft):
                    report.unchanged.append(article_id)
                    continue
                self.update(
                    article_id, draft, now=now, author=author, expected_version=current.version
                )
                report.updated.append(article_id)
            except HelpdeskError as error:
                report.failed[article_id] = str(error)
        logger.info(
            "articles imported",
            extra={
                "articles_created": len(report.created),
                "updated": len(report.updated),
                "failed": len(report.failed),
            },
        )
        return report

    # -- search ---------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        audience: Audience,
        k: int = 5,
        locale: str | None = None,
        semantic: bool = True,
    ) -> list[SearchHit]:
        """The best articles for `query` that `audience` may see, keyword and semantic merged
        (keyword only when `semantic` is false or no embedder can be had)."""
        retrieval = self.retrieve(query, audience=audience, k=k, locale=locale, semantic=semantic)
        return hits_from(retrieval, base_url=self.base_url)

    def retrieve(
        self,
        query: str,
        *,
        audience: Audience,
        k: int = 5,
        locale: str | None = None,
        semantic: bool = True,
    ) -> Retrieval:
        """The ranked candidates with the figures the first responder needs."""
        if not query.strip():
            return Retrieval(query=query)
        index = self.index()
        embedder = self._embedder() if semantic else None
        return index.retrieve(query, audience=audience, embedder=embedder, locale=locale, k=k)

    def index(self) -> KbSearchIndex:
        """The search index, rebuilt when any article changed since it was built."""
        generation = self._repository.generation()
        with self._lock:
            if self._index is None or generation != self._generation:
                self._index = KbSearchIndex(self._repository.search_docs())
                self._generation = generation
                logger.debug("kb index built", extra={"articles": len(self._index)})
            return self._index

    # -- helpers --------------------------------------------------------------------------

    def _embedder(self) -> Embedder | None:
        if self._embedder_source is None:
            return None
        try:
            return self._embedder_source()
        except Exception:  # no embedder means keyword search, never an error
            logger.warning("embedder unavailable; keyword search only", exc_info=True)
            return None

    def _search_doc(self, article: Article) -> SearchDoc:
        return search_doc(article, self._embedder())


def search_doc(article: Article, embedder: Embedder | None) -> SearchDoc:
    """What search stores for an article: plain text, passages and, with an embedder, the
    vectors of its title and passages. An embedder that fails leaves the vectors out (search
    embeds such articles when it builds its index); it never blocks the write."""
    text = plain_text(article.body, article.body_format)
    doc = SearchDoc(
        id=article.id,
        title=article.title,
        text=text,
        tags=article.tags,
        visibility=article.visibility,
        locale=article.locale,
        version=article.version,
        passages=passages(text),
    )
    if embedder is None:
        return doc
    try:
        vectors = embed_passages(embedder, doc.title, doc.passages or [doc.text])
    except Exception:  # stored without vectors; search embeds them later
        logger.warning("article stored without vectors", extra={"article_id": article.id})
        return doc
    return doc.model_copy(
        update={"vectors": encode_vectors(vectors), "model_id": embedder.model_id}
    )


def new_article_id(title: str) -> str:
    """A readable, unique id: the title's first words as a slug plus six random hex digits."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].strip("-")
    return f"{slug or 'article'}-{uuid.uuid4().hex[:6]}"


def _clean(draft: ArticleDraft) -> ArticleDraft:
    return draft.model_copy(update={"body": sanitise(draft.body, draft.body_format)})


def _validated(build: Callable[[], Article]) -> Article:
    from pydantic import ValidationError as PydanticValidationError

    try:
        return build()
    except PydanticValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"]) or None
        raise ValidationError(first["msg"], field=name) from error
