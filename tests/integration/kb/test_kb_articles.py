"""Articles in the one table: CRUD, versions, visibility, imports and search (moto)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from helpdesk.exceptions import ConflictError, NotFoundError, ValidationError
from helpdesk.kb.importer import read_csv, read_folder
from helpdesk.kb.models import ArticleDraft, Audience, Visibility
from helpdesk.kb.repository import ArticleRepository
from helpdesk.kb.service import KnowledgeBase

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def kb(table: Any) -> KnowledgeBase:
    return KnowledgeBase(ArticleRepository(table))


def draft(title: str, body: str, **fields: Any) -> ArticleDraft:
    return ArticleDraft(title=title, body=body, **fields)


def test_every_update_is_a_new_version_and_history_keeps_them_all(kb: KnowledgeBase) -> None:
    created = kb.create(
        draft("Reset your password", "Use the *Forgot password* link."),
        now=NOW,
        author="a-1",
        article_id="reset-password",
    )
    later = NOW + timedelta(hours=1)
    kb.update(
        "reset-password",
        draft("Reset your password", "Open Settings, then Security, then Reset."),
        now=later,
        author="a-2",
        expected_version=1,
    )

    current = kb.get("reset-password", audience=Audience.AGENT)
    history = kb.history("reset-password")

    assert created.version == 1
    assert current.version == 2
    assert current.body == "Open Settings, then Security, then Reset."
    assert current.author == "a-2" and current.created_at == NOW and current.updated_at == later
    assert [v.version for v in history] == [1, 2]
    assert history[0].body == "Use the *Forgot password* link."


def test_an_update_from_a_stale_version_is_a_conflict(kb: KnowledgeBase) -> None:
    kb.create(draft("Refunds", "Within 30 days."), now=NOW, author="a-1", article_id="refunds")
    kb.update("refunds", draft("Refunds", "Within 14 days."), now=NOW, author="a-1")

    with pytest.raises(ConflictError):
        kb.update("refunds", draft("Refunds", "Never."), now=NOW, author="a-2", expected_version=1)
    assert kb.get("refunds", audience=Audience.AGENT).body == "Within 14 days."


def test_creating_an_id_that_exists_is_a_conflict(kb: KnowledgeBase) -> None:
    kb.create(draft("One", "x"), now=NOW, author="a-1", article_id="same")
    with pytest.raises(ConflictError):
        kb.create(draft("Two", "y"), now=NOW, author="a-1", article_id="same")


def test_a_deleted_article_leaves_search_but_keeps_its_history(kb: KnowledgeBase) -> None:
    kb.create(draft("Shipping times", "Parcels ship in two days."), now=NOW, author="a-1",
              article_id="shipping")  # fmt: skip
    assert [hit.id for hit in kb.search("parcels ship", audience=Audience.AGENT)] == ["shipping"]

    kb.delete("shipping", now=NOW, author="a-1")

    with pytest.raises(NotFoundError):
        kb.get("shipping", audience=Audience.AGENT)
    assert kb.search("parcels ship", audience=Audience.AGENT) == []
    history = kb.history("shipping")
    assert [v.deleted for v in history] == [False, True]


def test_html_bodies_are_stored_sanitised(kb: KnowledgeBase) -> None:
    article = kb.create(
        draft(
            "Contact us",
            '<p onclick="steal()">Call us</p><script>alert(1)</script>'
            '<a href="javascript:alert(1)">x</a><a href="https://example.com/help">help</a>',
            body_format="html",
        ),
        now=NOW,
        author="a-1",
    )

    stored = kb.get(article.id, audience=Audience.AGENT).body
    assert "script" not in stored and "onclick" not in stored and "javascript:" not in stored
    assert 'href="https://example.com/help"' in stored


def test_customers_never_see_internal_articles(kb: KnowledgeBase) -> None:
    internal = draft(
        "Refund override for agents",
        "Agents may refund up to 500 EUR.",
        visibility=Visibility.INTERNAL,
    )
    kb.create(internal, now=NOW, author="a-1", article_id="override")
    kb.create(draft("Refund policy", "Refunds are possible within 30 days."), now=NOW,
              author="a-1", article_id="policy")  # fmt: skip

    customer = kb.search("refund", audience=Audience.CUSTOMER)
    agent = kb.search("refund", audience=Audience.AGENT)

    assert [hit.id for hit in customer] == ["policy"]
    assert {hit.id for hit in agent} == {"policy", "override"}
    assert [doc.id for doc in kb.articles(audience=Audience.CUSTOMER)] == ["policy"]
    with pytest.raises(NotFoundError):
        kb.get("override", audience=Audience.CUSTOMER)


def test_a_csv_import_creates_then_updates_only_what_changed(kb: KnowledgeBase) -> None:
    csv_text = (
        "id,title,body,tags,visibility\n"
        "pw,Reset password,Use the reset link.,account;login,public\n"
        "vpn,VPN setup,<p>Install the client.</p>,it,internal\n"
    )
    first = kb.import_articles(read_csv(csv_text), now=NOW, author="import")
    second = kb.import_articles(
        read_csv(csv_text.replace("Use the reset link.", "Use the new reset link.")),
        now=NOW,
        author="import",
    )

    assert first.created == ["pw", "vpn"]
    assert second.updated == ["pw"] and second.unchanged == ["vpn"]
    vpn = kb.get("vpn", audience=Audience.AGENT)
    assert vpn.visibility == Visibility.INTERNAL and vpn.body_format.value == "html"
    assert kb.get("pw", audience=Audience.AGENT).tags == ["account", "login"]


def test_a_folder_import_reads_front_matter_and_headings(kb: KnowledgeBase, tmp_path: Path) -> None:
    (tmp_path / "billing-faq.md").write_text(
        "---\ntitle: Billing questions\ntags: [billing, invoices]\nlocale: de\n---\n"
        "Invoices are sent monthly.\n",
        encoding="utf-8",
    )
    (tmp_path / "printer.html").write_text(
        "<h1>Printer jams</h1><p>Open tray 2.</p>", encoding="utf-8"
    )
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")

    report = kb.import_articles(read_folder(tmp_path), now=NOW, author="import")

    assert report.created == ["billing-faq", "printer"]
    billing = kb.get("billing-faq", audience=Audience.AGENT)
    assert (billing.title, billing.tags, billing.locale) == (
        "Billing questions",
        ["billing", "invoices"],
        "de",
    )
    assert kb.get("printer", audience=Audience.AGENT).title == "Printer jams"


def test_a_bad_row_in_a_csv_names_its_line() -> None:
    with pytest.raises(ValidationError, match="line 2"):
        list(read_csv('id,title,body\nx,"",body\n'))


def test_one_bad_article_in_an_import_does_not_stop_the_others(kb: KnowledgeBase) -> None:
    items = [
        ("first", draft("First", "one")),
        ("Not A Valid Id!", draft("Broken", "two")),
        ("third", draft("Third", "three")),
    ]

    report = kb.import_articles(items, now=NOW, author="import")

    assert report.created == ["first", "third"]
    assert list(report.failed) == ["Not A Valid Id!"]


def test_articles_stored_while_the_embedder_was_down_are_found_semantically_later(
    table: Any,
) -> None:
    from helpdesk.ai.embed import shared_onnx_embedder

    class Down:
        dimension = 384
        model_id = "all-MiniLM-L6-v2-int8"

        def embed(self, texts: object) -> object:
            raise RuntimeError("model not loaded")

    writer = KnowledgeBase(ArticleRepository(table), embedder=lambda: Down())  # type: ignore[arg-type,return-value]
    writer.create(
        draft("Reset your password", "Use Forgot password on the sign-in page."),
        now=NOW,
        author="a-1",
        article_id="reset-password",
    )
    embedder = shared_onnx_embedder()
    reader = KnowledgeBase(ArticleRepository(table), embedder=lambda: embedder)

    found = reader.retrieve("I cannot log in, lost my credentials", audience=Audience.CUSTOMER)

    assert found.semantic
    assert found.best is not None and found.best.doc.id == "reset-password"


def test_a_very_long_article_is_stored_and_found(table: Any) -> None:
    from helpdesk.ai.embed import shared_onnx_embedder

    embedder = shared_onnx_embedder()
    kb = KnowledgeBase(ArticleRepository(table), embedder=lambda: embedder)
    filler = " ".join(
        f"Paragraph {i} explains setting number {i} of the router." for i in range(2500)
    )
    body = filler + " Finally, the factory reset button is on the back, hold it ten seconds."

    kb.create(draft("Router manual", body), now=NOW, author="a-1", article_id="router")

    assert len(body) > 140_000
    hits = kb.search("factory reset button back", audience=Audience.CUSTOMER)
    assert hits[0].id == "router" and "factory reset button" in hits[0].excerpt
