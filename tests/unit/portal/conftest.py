"""Fixtures for the portal's unit tests: the real function module, with settings that point
every AWS client at a closed loopback port (no unit test reaches a network)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from helpdesk.portal import context
from tests.integration.portal.support import load_portal_function


@pytest.fixture(scope="session")
def portal_function() -> Any:
    return load_portal_function()


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings for a portal whose AWS endpoint does not answer."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("HELPDESK_TABLE", "unit")
    monkeypatch.setenv("HELPDESK_MAIL_BUCKET", "unit-mail")
    monkeypatch.setenv("HELPDESK_ATTACHMENT_BUCKET", "unit-attachments")
    context.reset()
    yield
    context.reset()
