"""Recognising bounces, auto-replies and abuse reports on our own small fixtures."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from helpdesk.mail.model import Outcome, ParsedMail

Parse = Callable[[str], ParsedMail]
ParseBytes = Callable[[bytes], ParsedMail]


def test_rfc3464_report_is_a_bounce_naming_the_original_and_the_failed_recipient(
    parse_fixture: Parse,
) -> None:
    mail = parse_fixture("dsn-bounce.eml")

    assert mail.outcome is Outcome.BOUNCE
    assert mail.bounced_message_ids == ["<reply-42@desk.example>"]
    assert mail.bounced_recipients == ["gone@example.net"]
    assert mail.auto_submitted


def test_qmail_style_free_text_bounce_is_a_bounce(parse_fixture: Parse) -> None:
    mail = parse_fixture("free-text-bounce.eml")

    assert mail.outcome is Outcome.BOUNCE
    assert mail.bounced_message_ids == ["<reply-43@desk.example>"]
    assert mail.bounced_recipients == ["nobody@example.org"]


def test_ses_bounce_notification_names_our_message_and_the_recipient(parse_fixture: Parse) -> None:
    mail = parse_fixture("ses-bounce-notification.eml")

    assert mail.outcome is Outcome.BOUNCE
    assert mail.reason == "SES bounce notification"
    assert mail.bounced_message_ids == [
        "<reply-45@desk.example>",
        "<0100018f-ses-id@email.amazonses.com>",
    ]
    assert mail.bounced_recipients == ["gone@example.com"]


def test_arf_report_is_an_abuse_report(parse_fixture: Parse) -> None:
    assert parse_fixture("arf-report.eml").outcome is Outcome.ABUSE_REPORT


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("auto-submitted.eml", "Auto-Submitted: auto-replied"),
        ("precedence-bulk.eml", "Precedence: bulk"),
        ("out-of-office.eml", "out-of-office subject"),
    ],
)
def test_automatic_mail_is_an_auto_reply(parse_fixture: Parse, name: str, reason: str) -> None:
    mail = parse_fixture(name)

    assert (mail.outcome, mail.reason) == (Outcome.AUTO_REPLY, reason)


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: hello",
        "Réponse automatique : hello",
        "Out of Office: back Monday",
        "Respuesta automática: hola",
        "Автоответ: привет",
        "Risposta automatica: ciao",
    ],
)
def test_out_of_office_subjects_in_several_languages(parse_bytes: ParseBytes, subject: str) -> None:
    raw = f"From: a@example.com\nSubject: {subject}\n\nAway.\n".encode()

    assert parse_bytes(raw).outcome is Outcome.AUTO_REPLY


def test_auto_submitted_no_is_customer_mail(parse_bytes: ParseBytes) -> None:
    raw = b"From: a@example.com\nAuto-Submitted: no\nSubject: help\n\nPlease help.\n"

    assert parse_bytes(raw).outcome is Outcome.CUSTOMER


def test_x_auto_response_suppress_marks_automatic_mail(parse_bytes: ParseBytes) -> None:
    raw = b"From: a@example.com\nX-Auto-Response-Suppress: All\nSubject: report\n\nDaily.\n"

    assert parse_bytes(raw).outcome is Outcome.AUTO_REPLY


def test_customer_writing_about_a_failed_delivery_is_not_a_bounce(parse_fixture: Parse) -> None:
    mail = parse_fixture("shipping-complaint.eml")

    assert mail.outcome is Outcome.CUSTOMER
    assert mail.reason == ""


def test_a_person_forwarding_a_bounce_is_asking_for_help(parse_bytes: ParseBytes) -> None:
    raw = (
        b"From: Ann <ann@example.com>\nSubject: Fwd: Undelivered Mail Returned to Sender\n\n"
        b"Why does this fail?\n\n> This is the mail system at host mx.example.net.\n"
        b"> <gone@example.net>: host mx said: 550 5.1.1 User unknown\n"
    )

    assert parse_bytes(raw).outcome is Outcome.CUSTOMER


def test_an_it_admin_describing_rejected_mail_is_not_a_list_manager(
    parse_bytes: ParseBytes,
) -> None:
    raw = (
        b"From: IT <it-admin@example.com>\nSubject: Mail rejected by your server\n\n"
        b"Our mail to you gets 550 5.7.1 rejected. Can you check?\n"
    )

    assert parse_bytes(raw).outcome is Outcome.CUSTOMER


def test_x_autoreply_header_marks_an_auto_reply(parse_bytes: ParseBytes) -> None:
    raw = b"From: a@example.com\nX-Autoreply: yes\nSubject: Re: hello\n\nI am away.\n"

    mail = parse_bytes(raw)

    assert (mail.outcome, mail.reason) == (Outcome.AUTO_REPLY, "x-autoreply header")


def test_bounce_names_the_original_from_x_original_message_id(parse_bytes: ParseBytes) -> None:
    raw = (
        b"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
        b"Subject: Mail delivery failed: returning message to sender\n"
        b"X-Original-Message-ID: <reply-46@desk.example>\n"
        b"X-Failed-Recipients: gone@example.net\n\n"
        b"This message was created automatically by mail delivery software.\n"
    )

    mail = parse_bytes(raw)

    assert mail.outcome is Outcome.BOUNCE
    assert mail.bounced_message_ids == ["<reply-46@desk.example>"]
    assert mail.bounced_recipients == ["gone@example.net"]
