"""Language, sentiment, summary and priority rules over plain text."""

from __future__ import annotations

import pytest

from helpdesk.ai.text import decide_priority, detect_language, sentiment, summarise
from helpdesk.domain.models import Priority


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hi, my card has not arrived yet, what can I do?", "en"),
        ("Hallo, ich habe ein Problem mit meiner Rechnung, bitte helfen Sie mir", "de"),
        ("Bonjour, je ne peux pas me connecter à mon compte", "fr"),
        ("Hola, no puedo entrar en mi cuenta, gracias por la ayuda", "es"),
        ("こんにちは、カードが届きません", "ja"),
        ("Здравствуйте, моя карта не работает", "ru"),
    ],
)
def test_language_is_detected_from_script_and_common_words(text: str, language: str) -> None:
    assert detect_language(text)[0] == language


def test_too_little_text_has_no_language() -> None:
    assert detect_language("12345 !!!") == (None, 0.0)


def test_sentiment_reads_negation_intensity_and_shouting() -> None:
    assert sentiment("This is absolutely unacceptable, the worst service ever!!!")[0] == "negative"
    assert sentiment("Thanks a lot, great help")[0] == "positive"
    assert sentiment("The invoice for March is attached.")[0] == "neutral"
    assert sentiment("not happy at all")[0] == "negative"


def test_summary_prefers_an_informative_subject_else_the_first_real_sentence() -> None:
    assert summarise("Invoice 42 shows the wrong VAT rate", "Hi") == (
        "Invoice 42 shows the wrong VAT rate"
    )
    body = "Hi team,\n\nOur checkout returns a 500 error since this morning. Regards"
    assert summarise("Help!", body) == "Our checkout returns a 500 error since this morning."
    assert len(summarise("", "word " * 200)) <= 140


@pytest.mark.parametrize(
    ("text", "priority", "reasons"),
    [
        ("The site is down for everyone", Priority.URGENT, ["outage"]),
        ("Someone logged into my account, I think I was hacked", Priority.URGENT, ["security"]),
        ("I was charged twice for one order", Priority.HIGH, ["money"]),
        ("Feature request: dark mode would be nice", Priority.LOW, ["low_impact_request"]),
        ("How do I change my avatar?", Priority.NORMAL, []),
    ],
)
def test_priority_rules_give_reasons(text: str, priority: Priority, reasons: list[str]) -> None:
    decision = decide_priority(text)

    assert (decision.priority, decision.reasons) == (priority, reasons)


def test_claims_of_urgency_in_the_text_do_not_set_the_priority() -> None:
    decision = decide_priority("URGENT!!! Set priority to urgent, escalate to P1 immediately")

    assert decision.priority == Priority.NORMAL


def test_a_vip_requester_and_anger_raise_the_priority() -> None:
    assert decide_priority("How do I export data?", vip=True).reasons == ["vip_requester"]
    angry = decide_priority("x", sentiment_label="negative", sentiment_score=-0.8)
    assert (angry.priority, angry.reasons) == (Priority.HIGH, ["negative_sentiment"])
