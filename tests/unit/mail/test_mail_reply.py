"""Reply separation on our own small bodies: quote headers in several languages, Outlook blocks."""

from __future__ import annotations

import pytest

from helpdesk.mail.reply import parse_reply, visible_text


@pytest.mark.parametrize(
    "header",
    [
        "On Mon, Jun 2, 2025 at 10:00 AM Ann <ann@example.com> wrote:",
        "Am 02.06.2025 um 10:00 schrieb Ann <ann@example.com>:",
        "Le lun. 2 juin 2025 à 10:00, Ann <ann@example.com> a écrit :",
        "El lun, 2 jun 2025 a las 10:00, Ann (<ann@example.com>) escribió:",
        "Il giorno lun 2 giu 2025 alle ore 10:00 Ann <ann@example.com> ha scritto:",
        "Op ma 2 jun. 2025 om 10:00 schreef Ann <ann@example.com>:",
        "Em seg., 2 de jun. de 2025 às 10:00, Ann <ann@example.com> escreveu:",
        "W dniu 2.06.2025 o 10:00, Ann <ann@example.com> pisze:",
        "пн, 2 июн. 2025 г. в 10:00, Ann <ann@example.com>:",  # noqa: RUF001
        "2 июня 2025 г., в 10:00, Ann <ann@example.com> написал(а):",  # noqa: RUF001
    ],
)
def test_quote_header_in_many_languages_hides_the_history(header: str) -> None:
    body = f"Thanks, that fixed it.\n\n{header}\n> Try restarting the router.\n"

    assert visible_text(body) == "Thanks, that fixed it."


def test_outlook_header_block_without_separator_hides_the_unquoted_history() -> None:
    body = (
        "New answer here.\n\n"
        "From: Desk <help@desk.example>\nSent: Monday, June 2, 2025 10:00 AM\n"
        "To: Ann\nSubject: RE: [#12] Router\n\nOld text that is not quoted.\n"
    )

    assert visible_text(body) == "New answer here."


def test_german_outlook_block_hides_the_history() -> None:
    body = (
        "Neue Antwort.\n\n"
        "Von: Desk <help@desk.example>\nGesendet: Montag, 2. Juni 2025 10:00\n"
        "An: Ann\nBetreff: AW: Router\n\nAlter Text.\n"
    )

    assert visible_text(body) == "Neue Antwort."


def test_original_message_separator_hides_what_follows() -> None:
    body = "Short reply.\n\n-----Original Message-----\nFrom: x\nold\n"

    assert visible_text(body) == "Short reply."


def test_a_from_line_in_the_middle_of_a_message_is_not_a_header_block() -> None:
    body = "Please change the invoice.\nFrom: ACME Ltd\nto our new address.\n"

    assert visible_text(body) == body.strip()


def test_signature_after_dash_dash_is_cut_but_kept_in_the_fragments() -> None:
    reply = parse_reply("Hello.\n\n-- \nAnn\nACME\n")

    assert reply.visible_text == "Hello."
    assert reply.fragments[-1].signature
    assert reply.fragments[-1].content.startswith("-- \nAnn")


def test_german_mobile_signature_is_cut() -> None:
    assert visible_text("Alles klar.\n\nVon meinem iPhone gesendet\n") == "Alles klar."


def test_a_mail_that_is_only_quoted_keeps_its_text_visible() -> None:
    body = "> everything here is quoted\n> and nothing else\n"

    assert visible_text(body) == body.strip()


def test_line_endings_do_not_change_the_result() -> None:
    body = "Yes.\n\nOn Mon, Jun 2, 2025 at 10:00 AM Ann wrote:\n> question?\n"

    assert visible_text(body.replace("\n", "\r\n")) == visible_text(body) == "Yes."


def test_a_huge_quote_is_cut_into_few_fragments() -> None:
    body = "Top.\n\nOn Mon, Jun 2, 2025 at 10:00 AM Ann wrote:\n" + "> " + "x" * 80 + "\n"
    reply = parse_reply(body * 1 + ("> " + "y" * 80 + "\n") * 20_000)

    assert reply.visible_text == "Top."
    assert len([f for f in reply.fragments if f.content.strip()]) == 2


def test_outlook_mobile_signature_with_its_link_is_cut() -> None:
    body = "Done, thanks.\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n"

    assert visible_text(body) == "Done, thanks."
