"""Bodies and attachments: text, HTML, RFC 2231 names, forwards, uuencode, TNEF, bad input."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpdesk.mail.html import html_to_text, sanitise_html
from helpdesk.mail.model import Outcome, ParsedMail
from helpdesk.mail.tnef import rtf_to_text

Parse = Callable[[str], ParsedMail]
ParseBytes = Callable[[bytes], ParsedMail]


def test_rfc2231_continuations_with_percent_encoding_join_into_one_name(
    parse_fixture: Parse,
) -> None:
    mail = parse_fixture("rfc2231-names.eml")

    assert mail.attachments[0].filename == "Rechnung März 2025.pdf"


def test_empty_encoded_file_name_falls_back_to_the_content_type_name(parse_fixture: Parse) -> None:
    mail = parse_fixture("rfc2231-names.eml")

    assert mail.attachments[1].filename == "fallback-name.txt"
    assert mail.attachments[1].payload == b"named by Content-Type"


def test_attachment_carries_type_size_inline_flag_and_content_id(parse_fixture: Parse) -> None:
    image = parse_fixture("rfc2231-names.eml").attachments[2]

    assert image.content_type == "image/png"
    assert image.inline is True
    assert image.content_id == "logo@example.it"
    assert image.payload.startswith(b"\x89PNG")
    assert image.size == len(image.payload)
    assert image.filename.endswith(".png")


def test_forwarded_message_is_kept_as_an_eml_named_after_its_subject(parse_fixture: Parse) -> None:
    mail = parse_fixture("forwarded-rfc822.eml")

    forwarded = mail.attachments[0]
    assert forwarded.filename == "Updates to our terms of use.eml"
    assert forwarded.content_type == "message/rfc822"
    assert b"Hello there!" in forwarded.payload
    assert mail.text == "Please see the mail below."


def test_uuencoded_file_in_a_plain_body_becomes_an_attachment(parse_fixture: Parse) -> None:
    mail = parse_fixture("uuencoded.eml")

    assert [(a.filename, a.payload) for a in mail.attachments] == [("hello.txt", b"hello world\n")]
    assert "begin 644" not in mail.text
    assert "The file follows." in mail.text and "Thanks." in mail.text


def test_html_only_mail_gives_readable_text_without_hidden_or_commented_parts(
    parse_fixture: Parse,
) -> None:
    mail = parse_fixture("html-only-hidden.eml")

    assert "Hello agent," in mail.text
    assert "* first" in mail.text
    assert "IGNORE PREVIOUS INSTRUCTIONS" not in mail.text
    assert "secret comment" not in mail.text
    assert "alert" not in mail.text


def test_html_is_sanitised_for_display(parse_fixture: Parse) -> None:
    html = parse_fixture("html-only-hidden.eml").html

    assert html is not None
    lowered = html.lower()
    for forbidden in ("<script", "onclick", "javascript:", "style=", "<style", "position:fixed"):
        assert forbidden not in lowered
    assert "IGNORE PREVIOUS INSTRUCTIONS" not in html
    assert "secret comment" not in html
    assert 'href="https://example.com/x"' in html


def test_plain_mail_has_no_html(parse_fixture: Parse) -> None:
    assert parse_fixture("uuencoded.eml").html is None


def test_sanitiser_drops_event_handlers_and_script_urls() -> None:
    cleaned = sanitise_html('<img src="x" onerror="alert(1)"><a href="JaVaScRiPt:x()">y</a>')

    assert cleaned is not None
    assert "onerror" not in cleaned and "javascript" not in cleaned.lower()


def test_html_to_text_of_empty_markup_is_empty() -> None:
    assert html_to_text("   ") == ""


def test_rtf_body_becomes_plain_text() -> None:
    rtf = rb"{\rtf1\ansi{\fonttbl{\f0 Arial;}}\f0 Hello\par W\'f6rld\par}"

    assert rtf_to_text(rtf) == "Hello\nWörld"


def test_rtf_unicode_escapes_and_outlook_html_only_parts() -> None:
    rtf = rb"{\rtf1\ansi Prosz\u281\'ea, prosz\u281? {\*\htmltag64 <p>}\htmlrtf x\htmlrtf0 ok\par}"

    assert rtf_to_text(rtf) == "Proszę, proszę ok"


def test_tnef_attachment_is_unpacked_into_its_files(parse_bytes: ParseBytes) -> None:
    raw = _mime_with_attachment(_tnef_with_one_file(b"notes.txt", b"inside tnef"))

    mail = parse_bytes(raw)

    assert [(a.filename, a.payload) for a in mail.attachments] == [("notes.txt", b"inside tnef")]


def test_unreadable_tnef_is_kept_as_winmail_dat(parse_bytes: ParseBytes) -> None:
    mail = parse_bytes(_mime_with_attachment(b"not a tnef stream"))

    assert [a.filename for a in mail.attachments] == ["winmail.dat"]
    assert "tnef_unreadable" in mail.defects


def test_same_boundary_inside_and_outside_does_not_loop(parse_bytes: ParseBytes) -> None:
    raw = (
        b"From: a@example.com\nContent-Type: multipart/mixed; boundary=X\n\n"
        b"--X\nContent-Type: multipart/alternative; boundary=X\n\n--X\n"
        b"Content-Type: text/plain\n\nhello\n--X--\n--X--\n"
    )

    assert "hello" in parse_bytes(raw).text


def test_deeply_nested_multiparts_are_cut_off_not_crashed(parse_bytes: ParseBytes) -> None:
    depth = 200
    head = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (i, i) for i in range(depth)
    )
    raw = b"From: a@example.com\n" + head + b"Content-Type: text/plain\n\ndeep\n"

    mail = parse_bytes(raw)

    assert mail.outcome in (Outcome.CUSTOMER, Outcome.REJECTED)
    assert "mime_too_deep_or_too_many_parts" in mail.defects or mail.error is not None


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_parse_without_raising(raw: bytes) -> None:
    from datetime import UTC, datetime

    from helpdesk.mail.parse import parse_mail

    mail = parse_mail(
        b"From: a@example.com\nContent-Type: multipart/mixed; boundary=q\n\n" + raw,
        received_at=datetime(2025, 1, 1, tzinfo=UTC),
    )

    assert mail.message_id


def _mime_with_attachment(payload: bytes) -> bytes:
    import base64

    body = base64.encodebytes(payload)
    return (
        b"From: o@example.com\nSubject: tnef\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed; boundary=t\n\n--t\nContent-Type: text/plain\n\nsee\n"
        b"--t\nContent-Type: application/ms-tnef; name=winmail.dat\n"
        b'Content-Disposition: attachment; filename="winmail.dat"\n'
        b"Content-Transfer-Encoding: base64\n\n" + body + b"--t--\n"
    )


def _tnef_with_one_file(name: bytes, data: bytes) -> bytes:
    """A minimal TNEF stream: signature, key, then attachment attributes (level 2)."""

    def attribute(level: int, kind: int, payload: bytes) -> bytes:
        checksum = sum(payload) & 0xFFFF
        return (
            struct.pack("<BII", level, kind, len(payload)) + payload + struct.pack("<H", checksum)
        )

    att_rend_data, att_title, att_data = 0x00069002, 0x00018010, 0x0006800F
    stream = struct.pack("<IH", 0x223E9F78, 1)
    stream += attribute(2, att_rend_data, b"\x00" * 14)
    stream += attribute(2, att_title, name + b"\x00")
    stream += attribute(2, att_data, data)
    return stream


def test_a_failure_inside_the_parser_becomes_a_rejection_with_the_best_fields(
    monkeypatch: pytest.MonkeyPatch, parse_fixture: Parse
) -> None:
    # GIVEN a parser step that breaks (a stand-in for a bug we have not met yet)
    import helpdesk.mail.parse as parse_module

    def broken(*_args: object) -> None:
        raise RuntimeError("walk failed")

    monkeypatch.setattr(parse_module, "collect_body", broken)

    # WHEN a good mail is parsed
    mail = parse_fixture("forwarded-rfc822.eml")

    # THEN it is rejected, says why, and keeps what the headers said
    assert mail.outcome is Outcome.REJECTED
    assert mail.error == "RuntimeError: walk failed"
    assert mail.subject == "Fwd: the original"
    assert mail.requester == "dana@example.org"
    assert mail.message_id == "<outer@example.org>"
    assert mail.in_reply_to == "<ticket-1@desk.example>"


def test_text_hidden_by_other_styling_tricks_stays_out() -> None:
    markup = (
        "<p>Visible.</p>"
        '<span style="mso-hide:all">outlook hidden</span>'
        '<span style="color: transparent">transparent</span>'
        '<div style="max-height:0;overflow:hidden">preheader</div>'
        '<div style="position:absolute;left:-9999px">off screen</div>'
        '<p style="background-color: transparent">Also visible.</p>'
    )

    assert html_to_text(markup) == "Visible.\n\nAlso visible."
    assert "off screen" not in (sanitise_html(markup) or "")


def test_named_image_referenced_by_content_id_is_inline(parse_bytes: ParseBytes) -> None:
    raw = (
        b"From: a@example.com\nContent-Type: multipart/related; boundary=r\n\n"
        b'--r\nContent-Type: text/html\n\n<img src="cid:logo@x">\n'
        b'--r\nContent-Type: image/gif; name="logo.gif"\nContent-ID: <logo@x>\n\nGIF89a\n'
        b'--r\nContent-Type: application/pdf; name="terms.pdf"\n\n%PDF\n--r--\n'
    )

    mail = parse_bytes(raw)

    assert [(a.filename, a.inline) for a in mail.attachments] == [
        ("logo.gif", True),
        ("terms.pdf", False),
    ]
    assert mail.html is not None and 'src="cid:logo@x"' in mail.html
