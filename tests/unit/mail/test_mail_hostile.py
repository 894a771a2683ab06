"""Hostile mails from the parser's attack review: spoofed senders, lookalike subjects, bad ids."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from helpdesk.mail.model import Outcome, ParsedMail

Parse = Callable[[str], ParsedMail]
ParseBytes = Callable[[bytes], ParsedMail]


def _mail(subject: str, sender: str = "Kim <kim@customer.test>", extra: str = "") -> bytes:
    return (
        f"From: {sender}\nTo: support@example.com\nMessage-ID: <m1@customer.test>\n"
        f"Subject: {subject}\n{extra}Content-Type: text/plain; charset=utf-8\n\nHello.\n"
    ).encode()


# --- who sent it ------------------------------------------------------------------------------


def test_address_inside_an_encoded_display_name_is_not_the_requester(parse_fixture: Parse) -> None:
    mail = parse_fixture("hostile/encoded-display-name-spoof.eml")

    assert mail.requester == "attacker@evil.test"
    assert mail.requester_name == "victim@customer.test <victim@customer.test>"
    assert mail.outcome is Outcome.CUSTOMER


def test_encoded_word_where_the_address_should_be_is_rejected(parse_fixture: Parse) -> None:
    mail = parse_fixture("hostile/encoded-word-instead-of-address.eml")

    assert mail.requester is None
    assert (mail.outcome, mail.reason) == (Outcome.REJECTED, "no valid sender address")


def test_address_that_is_not_valid_utf8_is_not_a_requester(parse_fixture: Parse) -> None:
    mail = parse_fixture("hostile/invalid-utf8-address.eml")

    assert mail.requester is None
    assert (mail.outcome, mail.reason) == (Outcome.REJECTED, "no valid sender address")


def test_from_without_address_falls_back_to_sender_never_to_reply_to(parse_fixture: Parse) -> None:
    mail = parse_fixture("hostile/no-address-sender-header.eml")

    assert mail.requester == "ceo@customer.test"
    assert mail.reply_to == "attacker@evil.test"
    assert "requester_from_sender" in mail.defects


def test_only_a_reply_to_is_not_enough_for_a_requester(parse_bytes: ParseBytes) -> None:
    mail = parse_bytes(_mail("help", sender="Your CEO", extra="Reply-To: boss@evil.test\n"))

    assert mail.requester is None
    assert (mail.outcome, mail.reason) == (Outcome.REJECTED, "no valid sender address")


@pytest.mark.parametrize(
    "sender",
    [
        "Kim <kim@customer..test>",
        "Kim <kim@-customer.test>",
        "Kim <kim@cust omer.test?=>",
        "Kim <=?utf-8?q?kim?=@customer.test>",
    ],
)
def test_malformed_addresses_are_not_requesters(parse_bytes: ParseBytes, sender: str) -> None:
    assert parse_bytes(_mail("help", sender=sender)).requester is None


@pytest.mark.parametrize(
    ("sender", "requester"),
    [
        ("=?utf-8?b?SsO2cmc=?= <joerg@customer.test>", "joerg@customer.test"),
        ("Jörg <jörg@bücher.example>", "jörg@bücher.example"),
        ("kim+tag@Customer.TEST (Kim)", "kim+tag@customer.test"),
    ],
)
def test_ordinary_and_international_addresses_are_read(
    parse_bytes: ParseBytes, sender: str, requester: str
) -> None:
    assert parse_bytes(_mail("help", sender=sender)).requester == requester


# --- message ids ------------------------------------------------------------------------------


def test_message_id_with_a_nul_is_replaced_by_the_stable_generated_id(
    parse_fixture: Parse,
) -> None:
    first = parse_fixture("hostile/nul-in-message-id.eml")
    second = parse_fixture("hostile/nul-in-message-id.eml")

    assert first.message_id_generated
    assert first.message_id.endswith("@generated.invalid>")
    assert first.message_id == second.message_id
    assert "\x00" not in first.message_id and " " not in first.message_id


def test_references_with_control_characters_are_dropped(parse_bytes: ParseBytes) -> None:
    raw = _mail("help", extra="References: <a@x.test> <b\x00c@x.test> <d@x.test>\n")

    assert parse_bytes(raw).references == ["<a@x.test>", "<d@x.test>"]


# --- automatic or not -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        "Ooo, my account is locked",
        "On vacation and cannot log in",
        "=?utf-8?q?Abwesenheitsbescheinigung_ben=C3=B6tigt?=",
        "=?utf-8?b?5LiN5Zyo56Wo44GM5YWl44Gj44Gm44GE44G+44GX44Gf?=",
        "Auto-reply setup question",
        "I am out of the office and cannot reach the VPN",
        "Urlaubsantrag wird nicht gespeichert",
    ],
)
def test_subjects_that_mention_absence_are_customer_mail(
    parse_bytes: ParseBytes, subject: str
) -> None:
    assert parse_bytes(_mail(subject)).outcome is Outcome.CUSTOMER


@pytest.mark.parametrize(
    "subject",
    [
        "Abwesend: Re: Ihre Anfrage",
        "=?utf-8?q?Au=C3=9Fer_Haus=3A_Ihre_Anfrage?=",
        "Urlaub: Re: Ticket",
        "=?utf-8?q?Nicht_im_B=C3=BCro=3A_Ihre_Anfrage?=",
        "=?utf-8?q?Ich_bin_bis_20=2E12=2E_nicht_im_B=C3=BCro?=",
        "Abwesenheitsnotiz: Ihre Anfrage",
        "Automatische Antwort: Ihre Anfrage",
        "Out of Office: Re: invoice",
        "OOO: back Monday",
        "Automatic reply: Re: invoice",
        "=?utf-8?q?R=C3=A9ponse_automatique_=3A_facture?=",
        "Absence : facture",
        "=?utf-8?q?Respuesta_autom=C3=A1tica=3A_factura?=",
        "Fuori sede: fattura",
        "Afwezig: factuur",
        "Automatisch antwoord: factuur",
        "=?utf-8?b?5LiN5ZyoOiDjgYrllY/jgYTlkIjjgo/jgZs=?=",
        "Out of Office",
        "I am out of the office until 5 June",
    ],
)
def test_out_of_office_subjects_are_auto_replies(parse_bytes: ParseBytes, subject: str) -> None:
    mail = parse_bytes(_mail(subject))

    assert (mail.outcome, mail.reason) == (Outcome.AUTO_REPLY, "out-of-office subject")


def test_customer_quoting_a_rejection_from_a_normal_address_is_customer_mail(
    parse_fixture: Parse,
) -> None:
    mail = parse_fixture("hostile/customer-quoting-a-rejection.eml")

    assert mail.outcome is Outcome.CUSTOMER
    assert mail.requester == "cust3@customer.test"


def test_the_same_rejection_text_from_mailer_daemon_is_a_bounce(parse_bytes: ParseBytes) -> None:
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.customer.test>\n"
        b"To: support@example.com\nMessage-ID: <b1@mx.customer.test>\n"
        b"Subject: Undelivered Mail Returned to Sender\n\n"
        b"550 5.1.1 user unknown, recipient address rejected.\n"
    )

    assert parse_bytes(raw).outcome is Outcome.BOUNCE


def test_rejection_text_with_a_null_return_path_is_a_bounce(parse_bytes: ParseBytes) -> None:
    raw = _mail(
        "Your emails are rejected by our server",
        sender="Mailer <robot@mx.customer.test>",
        extra="Return-Path: <>\n",
    ).replace(b"Hello.", b"550 5.1.1 user unknown, recipient address rejected.")

    assert parse_bytes(raw).outcome is Outcome.BOUNCE


# --- deep nesting -----------------------------------------------------------------------------


def _nested_multiparts(levels: int, fold: str = " ") -> bytes:
    head = "From: Kim <kim@customer.test>\nSubject: nested\nMessage-ID: <n@customer.test>\n"
    lines = [head + f'Content-Type:{fold}multipart/mixed; boundary="b0"\n']
    for level in range(levels):
        lines.append(f"--b{level}\nContent-Type: text/plain\n\nlevel {level} text\n")
        lines.append(f'--b{level}\nContent-Type:{fold}multipart/mixed; boundary="b{level + 1}"\n')
    lines.append(f"--b{levels}\nContent-Type: text/plain\n\nbottom\n--b{levels}--\n")
    lines += [f"--b{level}--\n" for level in reversed(range(levels))]
    return "\n".join(lines).encode()


def _nested_messages(levels: int) -> bytes:
    head = "From: Kim <kim@customer.test>\nSubject: deep\nMessage-ID: <d@customer.test>\n"
    top = head + 'Content-Type: multipart/mixed; boundary="top"\n\n--top\n\nsee below\n--top\n'
    inner = "".join(
        f"Content-Type: message/rfc822\n\nFrom: l{level}@customer.test\nSubject: l{level}\n"
        for level in range(levels)
    )
    return (top + inner + "\nbottom text\n--top--\n").encode()


@pytest.mark.parametrize("fold", [" ", "\n\t"])
def test_ten_thousand_nested_multiparts_keep_the_text_of_the_first_levels(
    parse_bytes: ParseBytes, fold: str
) -> None:
    mail = parse_bytes(_nested_multiparts(10_000, fold))

    assert (mail.outcome, mail.requester) == (Outcome.CUSTOMER, "kim@customer.test")
    assert mail.text.startswith("level 0 text\n\nlevel 1 text")
    assert "bottom" not in mail.text
    assert "mime_nesting_limit" in mail.defects


def test_five_thousand_nested_messages_keep_the_text_before_them(parse_bytes: ParseBytes) -> None:
    mail = parse_bytes(_nested_messages(5_000))

    assert (mail.outcome, mail.text) == (Outcome.CUSTOMER, "see below")
    assert [a.content_type for a in mail.attachments] == ["message/rfc822"]
    assert "mime_nesting_limit" in mail.defects


def test_moderate_nesting_is_read_whole(parse_bytes: ParseBytes) -> None:
    mail = parse_bytes(_nested_multiparts(5))

    assert mail.text.endswith("level 4 text\n\nbottom")
    assert "mime_nesting_limit" not in mail.defects


# --- hidden text ------------------------------------------------------------------------------


def test_hidden_html_text_reaches_neither_the_text_nor_the_html(parse_fixture: Parse) -> None:
    mail = parse_fixture("hostile/hidden-text-variants.eml")
    html = mail.html or ""

    for shown in (mail.text, mail.visible_text, html):
        assert "HIDDEN" not in shown
    visible = (
        "Visible request: reset my password.\n\nVisible white on black.\nVisible dark child.\n"
        "Visible despite a zero-size cell.\n\nVisible at 90 percent.\n\nVisible link"
    )
    assert " ".join(mail.text.split()) == " ".join(visible.split())
    assert "Visible white on black." in html and 'href="https://example.com/help"' in html


@pytest.mark.parametrize(
    "markup",
    [
        "<style>body{background:#000;color:#fff}</style><p>Readable text.</p>",
        "<style>@media (prefers-color-scheme: dark){.t{color:#fff !important}}</style>"
        '<p class="t">Readable text.</p>',
        '<p style="color:#fff;background-color:#c00">Readable text.</p>',
        '<td style="background-image:url(banner.png)"><b style="color:#fff">Readable text.</b>',
    ],
)
def test_light_text_on_a_dark_or_dark_mode_background_stays(markup: str) -> None:
    from helpdesk.mail.html import html_to_text

    assert html_to_text(markup) == "Readable text."
