"""Helpers for the mail parsing tests: parse a fixture file or raw bytes at a fixed time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpdesk.mail.model import ParsedMail
from helpdesk.mail.parse import parse_mail

MAIL_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mail"
RECEIVED_AT = datetime(2025, 6, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def received_at() -> datetime:
    return RECEIVED_AT


@pytest.fixture
def parse_fixture() -> Callable[[str], ParsedMail]:
    """Parse tests/fixtures/mail/<name> as received at RECEIVED_AT."""

    def parse(name: str) -> ParsedMail:
        return parse_mail((MAIL_FIXTURES / name).read_bytes(), received_at=RECEIVED_AT)

    return parse


@pytest.fixture
def parse_bytes() -> Callable[[bytes], ParsedMail]:
    """Parse raw bytes as received at RECEIVED_AT."""

    def parse(raw: bytes) -> ParsedMail:
        return parse_mail(raw, received_at=RECEIVED_AT)

    return parse
