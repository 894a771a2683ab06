"""The first responder prefers articles in the language triage detected."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from helpdesk.ai.embed import OnnxEmbedder
from helpdesk.domain.models import Triage
from helpdesk.kb.models import ArticleDraft
from helpdesk.kb.repository import ArticleRepository
from helpdesk.kb.responder import maybe_answer
from helpdesk.kb.service import KnowledgeBase

NOW = datetime(2026, 2, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("language", "article"), [(None, "address-en"), ("de", "address-de")])
def test_the_article_in_the_language_triage_detected_is_preferred(
    table: Any,
    embedder: OnnxEmbedder,
    make_service: Any,
    open_ticket: Any,
    language: str | None,
    article: str,
) -> None:
    kb = KnowledgeBase(ArticleRepository(table), embedder=lambda: embedder)
    kb.create(
        ArticleDraft(
            title="Change your shipping address",
            body="Open My orders, choose the order and edit its shipping address.",
        ),
        now=NOW,
        author="a-1",
        article_id="address-en",
    )
    kb.create(
        ArticleDraft(
            title="Lieferadresse (Shipping Address) ändern",
            body="Öffnen Sie Meine Bestellungen, wählen Sie die Bestellung und ändern Sie "
            "die Lieferadresse.",
            locale="de",
        ),
        now=NOW,
        author="a-1",
        article_id="address-de",
    )
    number = open_ticket(
        table,
        "How can I change the shipping address of my order? Bitte.",
        subject="Shipping address",
        triage=Triage(language=language),
    )

    outcome = maybe_answer(number, now=NOW, service=make_service(table, kb))

    assert outcome.answered and outcome.articles == [article]
