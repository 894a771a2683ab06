"""Article text handling, grounding checks and the signed confirmation tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from helpdesk.exceptions import UnauthorizedError
from helpdesk.kb.answer import ground_links, unsupported_figures
from helpdesk.kb.confirm import Choice, TokenClaims, sign, verify
from helpdesk.kb.models import BodyFormat
from helpdesk.kb.text import body_html, links, passages, plain_text, sanitise

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SECRET = "test-secret"


def test_sanitising_html_removes_scripts_handlers_and_unsafe_links() -> None:
    clean = sanitise(
        '<img src=x onerror="alert(1)"><a href="javascript:go()">x</a><script>bad()</script>'
        '<p style="color:red">ok</p>',
        BodyFormat.HTML,
    )

    assert "onerror" not in clean and "javascript" not in clean and "script" not in clean
    assert "<p>ok</p>" in clean


def test_markdown_renders_to_safe_html() -> None:
    html = body_html(
        "# Title\n\nSee [help](https://example.com/h) <b onclick=x>now</b>", BodyFormat.MARKDOWN
    )

    assert "<h1>Title</h1>" in html
    assert '<a href="https://example.com/h"' in html
    assert "<b onclick" not in html  # raw HTML shows as text, never as an element


def test_plain_text_of_html_keeps_paragraphs_apart_and_decodes_entities() -> None:
    text = plain_text("<p>Fish &amp; chips</p><p>Second</p>", BodyFormat.HTML)

    assert text == "Fish & chips\nSecond"


def test_passages_group_sentences_without_losing_any() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(40))

    parts = passages(text, words=20)

    assert len(parts) > 1
    assert " ".join(parts) == text


def test_links_are_found_in_markdown_html_and_bare_text() -> None:
    body = '[a](https://a.example/x) <a href="https://b.example/">b</a> see https://c.example/y.'

    assert links(body) == ["https://a.example/x", "https://b.example/", "https://c.example/y"]


def test_links_not_among_the_cited_ones_are_stripped() -> None:
    text = (
        "Reset it [here](https://help.example.com/help/articles/reset) or at "
        "https://evil.example/phish, or [there](https://other.example/x)."
    )

    grounded, removed = ground_links(text, {"https://help.example.com/help/articles/reset"})

    assert "https://help.example.com/help/articles/reset" in grounded
    assert "evil.example" not in grounded and "other.example" not in grounded
    assert "there" in grounded
    assert removed == ["https://other.example/x", "https://evil.example/phish"]


def test_a_price_no_article_states_is_reported() -> None:
    sources = "Shipping costs $4.99 within the EU. Refunds within 30 days."

    assert unsupported_figures("Shipping is $4.99.", sources) == []
    assert unsupported_figures("Shipping is free over €50, and 10% off.", sources) == ["€50", "10%"]


def test_a_token_verifies_and_names_its_ticket_and_choice() -> None:
    claims = TokenClaims(ticket_number=42, nonce="n1", choice=Choice.YES, expires=_at(1))

    assert verify(sign(claims, SECRET), SECRET, now=NOW) == claims


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("A" if t[-2] != "A" else "B") + t[-1],
        lambda t: t.replace(t.split(".")[0], t.split(".")[0][::-1]),
        lambda t: "garbage",
        lambda t: "",
    ],
)
def test_a_tampered_token_is_refused(mangle: object) -> None:
    token = sign(
        TokenClaims(ticket_number=42, nonce="n1", choice=Choice.NO, expires=_at(1)), SECRET
    )

    with pytest.raises(UnauthorizedError):
        verify(mangle(token), SECRET, now=NOW)  # type: ignore[operator]


def test_a_token_signed_with_another_secret_or_expired_is_refused() -> None:
    claims = TokenClaims(ticket_number=42, nonce="n1", choice=Choice.YES, expires=_at(1))

    with pytest.raises(UnauthorizedError):
        verify(sign(claims, "other"), SECRET, now=NOW)
    with pytest.raises(UnauthorizedError, match="expired"):
        verify(sign(claims, SECRET), SECRET, now=NOW + timedelta(hours=2))


def _at(hours: int) -> int:
    return int((NOW + timedelta(hours=hours)).timestamp())
