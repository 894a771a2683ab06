"""Header decoding: RFC 2047 and 2231, raw 8-bit, lying charsets, dates, ids and requesters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from helpdesk.mail.charsets import decode_bytes
from helpdesk.mail.headers import decode_text, generated_message_id, parse_date, unfold
from helpdesk.mail.model import Outcome, ParsedMail

Parse = Callable[[str], ParsedMail]
ParseBytes = Callable[[bytes], ParsedMail]


def test_adjacent_encoded_words_in_two_charsets_join_without_the_space_between() -> None:
    value = "=?UTF-8?Q?Gr=C3=BC=C3=9Fe?= =?ISO-8859-1?Q?_aus_M=FCnchen?="

    assert decode_text(value) == "Grüße aus München"


def test_a_multibyte_character_split_across_two_encoded_words_survives() -> None:
    # "é" is C3 A9 in UTF-8; each word carries one byte of it.
    assert decode_text("=?utf-8?Q?caf=C3?= =?utf-8?Q?=A9?=") == "café"


def test_encoded_word_with_bad_base64_padding_still_decodes() -> None:
    assert decode_text("=?gb18030?B?suLK1A===?=") == "测试"


def test_broken_encoded_word_stays_literal_instead_of_turning_into_garbage() -> None:
    assert decode_text("Café =?utf-8?B?broken") == "Café =?utf-8?B?broken"


def test_encoded_word_in_an_unknown_charset_falls_back_to_a_readable_text() -> None:
    assert decode_text("=?x-unknown-charset?Q?Caf=E9?=") == "Café"


def test_folding_is_undone_exactly_keeping_the_white_space_after_the_break() -> None:
    assert unfold("a folded\r\n  subject\n\twith tabs") == "a folded  subject\twith tabs"


def test_folded_encoded_words_become_one_word(parse_bytes: ParseBytes) -> None:
    raw = b"From: a@example.com\nSubject: =?ISO-8859-1?Q?te?=\n =?ISO-8859-1?Q?st?=\n\nx\n"

    assert parse_bytes(raw).subject == "test"


def test_raw_koi8r_subject_is_read_as_russian(parse_fixture: Parse) -> None:
    mail = parse_fixture("raw-koi8r-subject.eml")

    assert mail.subject == "тест тест"
    assert mail.text == "Привет"


def test_raw_utf8_headers_and_a_body_that_lies_about_being_ascii(parse_fixture: Parse) -> None:
    mail = parse_fixture("raw-utf8-headers.eml")

    assert mail.subject == "Bestellung über Straße"
    assert mail.requester_name == "Jörg"
    assert mail.text == "Können Sie helfen?"


def test_body_declared_utf8_but_written_in_latin1_is_not_lost(parse_fixture: Parse) -> None:
    mail = parse_fixture("folded-subject-lying-charset.eml")

    assert mail.text == "body with a lying charset: été"
    assert "charset_fallback:utf-8->cp1252" in mail.defects


def test_unknown_body_charset_falls_back_without_raising(parse_fixture: Parse) -> None:
    mail = parse_fixture("unknown-charset.eml")

    assert mail.outcome is Outcome.CUSTOMER
    assert mail.text == "Café crème brûlée"


def test_decode_bytes_prefers_the_charset_that_reads_as_words() -> None:
    text, codec = decode_bytes("Привет, как дела".encode("koi8-r"))

    assert (text, codec) == ("Привет, как дела", "koi8-r")


def test_requester_is_the_address_never_a_display_name_that_looks_like_one(
    parse_fixture: Parse,
) -> None:
    mail = parse_fixture("display-name-address.eml")

    assert mail.requester == "mallory@attacker.example"
    assert mail.requester_name == "support@example.com"
    assert mail.reply_to == "replies@attacker.example"


def test_hour_27_in_the_date_falls_back_to_the_receive_time(
    parse_fixture: Parse, received_at: datetime
) -> None:
    mail = parse_fixture("display-name-address.eml")

    assert mail.date == received_at
    assert "date_missing_or_invalid" in mail.defects


def test_dates_far_in_the_future_or_past_are_not_believed(received_at: datetime) -> None:
    assert parse_date("Mon, 01 Jan 2091 10:00:00 +0000", received_at) == (received_at, False)
    assert parse_date("Thu, 13 Feb 1969 23:32:00 -0330", received_at) == (received_at, False)
    assert parse_date("not a date at all", received_at) == (received_at, False)
    assert parse_date(None, received_at) == (received_at, False)


def test_a_good_date_is_kept_in_utc(received_at: datetime) -> None:
    parsed, believed = parse_date("Mon, 02 Jun 2025 20:58:30 +0200", received_at)

    assert believed
    assert parsed == datetime(2025, 6, 2, 18, 58, 30, tzinfo=UTC)


def test_missing_message_id_gets_a_stable_id_from_the_raw_bytes(
    parse_fixture: Parse, parse_bytes: ParseBytes
) -> None:
    first = parse_fixture("no-message-id.eml")
    again = parse_fixture("no-message-id.eml")
    other = parse_bytes(b"From: hal@example.com\nSubject: another\n\nbody\n")

    assert first.message_id_generated
    assert first.message_id == again.message_id
    assert first.message_id != other.message_id
    assert first.message_id.startswith("<") and first.message_id.endswith("@generated.invalid>")


def test_generated_message_id_is_a_hash_of_the_bytes() -> None:
    assert generated_message_id(b"abc") == generated_message_id(b"abc")
    assert generated_message_id(b"abc") != generated_message_id(b"abd")


def test_threading_ids_are_read_verbatim(parse_fixture: Parse) -> None:
    mail = parse_fixture("forwarded-rfc822.eml")

    assert mail.message_id == "<outer@example.org>"
    assert mail.in_reply_to == "<ticket-1@desk.example>"
    assert mail.references == ["<root@desk.example>", "<ticket-1@desk.example>"]


def test_address_with_comments_in_it_is_read(parse_bytes: ParseBytes) -> None:
    raw = b"From: Pete(A \\) chap) <pete(his account)@silly.test(his host)>\n\nTesting.\n"

    mail = parse_bytes(raw)

    assert mail.requester == "pete@silly.test"
    assert mail.requester_name == "Pete"


def test_mail_without_any_sender_is_rejected_with_a_reason(parse_bytes: ParseBytes) -> None:
    mail = parse_bytes(b"Subject: =?NONE?B?VEVTVA=?=\n\nTEST\n")

    assert mail.outcome is Outcome.REJECTED
    assert mail.reason == "no sender address"
    assert mail.error is None
    assert mail.text == "TEST"


def test_encoded_line_breaks_never_reach_the_subject(parse_bytes: ParseBytes) -> None:
    raw = b"From: a@example.com\nSubject: =?utf-8?Q?hi=0D=0ABcc:_victim@example.com?=\n\nx\n"

    subject = parse_bytes(raw).subject

    assert "\n" not in subject and "\r" not in subject
    assert subject == "hi Bcc: victim@example.com"


def test_references_keep_the_root_and_the_latest_ids_only(parse_bytes: ParseBytes) -> None:
    ids = " ".join(f"<id{n}@example.com>" for n in range(1000))
    raw = f"From: a@example.com\nReferences: {ids}\n\nx\n".encode()

    references = parse_bytes(raw).references

    assert len(references) == 100
    assert references[0] == "<id0@example.com>"
    assert references[-1] == "<id999@example.com>"
    assert references[1] == "<id901@example.com>"


def test_fallback_charsets_come_from_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    from helpdesk.mail.charsets import DEFAULT_FALLBACKS, configured_fallbacks

    greek = "Καλημέρα σας".encode("iso-8859-7")
    monkeypatch.setenv("HELPDESK_MAIL_FALLBACK_CHARSETS", "iso-8859-7, not-a-charset")
    configured_fallbacks.cache_clear()
    try:
        assert configured_fallbacks() == ("iso-8859-7",)
        assert decode_bytes(greek) == ("Καλημέρα σας", "iso8859-7")
    finally:
        configured_fallbacks.cache_clear()
    monkeypatch.delenv("HELPDESK_MAIL_FALLBACK_CHARSETS")

    assert configured_fallbacks() == DEFAULT_FALLBACKS
