"""Ticket tokens: short, verifiable, unforgeable without the secret; ids tried in order."""

from __future__ import annotations

from helpdesk.mail.threading import (
    MatchRule,
    reference_ids,
    reply_address,
    scan_tokens,
    subject_tag,
    ticket_token,
)

SECRET = "s3cret"


def test_token_is_the_number_and_a_short_mac_that_depends_on_the_secret() -> None:
    token = ticket_token(1042, SECRET)

    assert token.startswith("1042-") and len(token) == len("1042-") + 10
    assert ticket_token(1042, "another secret") != token
    assert ticket_token(1043, SECRET).split("-")[1] != token.split("-")[1]


def test_token_in_the_plus_address_is_found_and_verified() -> None:
    address = reply_address("support@example.com", 7, SECRET)

    scan = scan_tokens([address], "no tag", SECRET)

    assert address.startswith("support+7-") and address.endswith("@example.com")
    assert [(m.number, m.rule) for m in scan.matches] == [(7, MatchRule.TOKEN_IN_ADDRESS)]


def test_token_in_the_subject_is_found_even_after_clients_rewrite_its_case() -> None:
    subject = f"AW: Re: printer {subject_tag(7, SECRET).upper()}"

    scan = scan_tokens(["support@example.com"], subject, SECRET)

    assert [(m.number, m.rule) for m in scan.matches] == [(7, MatchRule.TOKEN_IN_SUBJECT)]


def test_a_guessed_number_with_a_made_up_mac_is_counted_as_forged_and_ignored() -> None:
    scan = scan_tokens(["support+7-aaaaaaaaaa@example.com"], "[#8-bbbbbbbbbb]", SECRET)

    assert scan.matches == []
    assert scan.forged == 2


def test_a_bare_ticket_number_in_the_subject_is_not_a_token() -> None:
    scan = scan_tokens([], "Re: [#7] printer", SECRET)

    assert scan.matches == [] and scan.forged == 0


def test_address_token_comes_before_subject_token() -> None:
    scan = scan_tokens(
        [reply_address("support@example.com", 3, SECRET)], f"Re: {subject_tag(9, SECRET)}", SECRET
    )

    assert [m.number for m in scan.matches] == [3, 9]


def test_in_reply_to_is_tried_first_then_references_newest_first_without_repeats() -> None:
    ids = reference_ids("<c@x>", ["<a@x>", "<b@x>", "<c@x>"])

    assert ids == [
        ("<c@x>", MatchRule.IN_REPLY_TO),
        ("<b@x>", MatchRule.REFERENCES),
        ("<a@x>", MatchRule.REFERENCES),
    ]
