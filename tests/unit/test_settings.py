"""Settings name what is missing, and refuse local-only secrets inside Lambda."""

from __future__ import annotations

import pytest

from helpdesk.exceptions import ConfigurationError
from helpdesk.settings import IngestSettings, load


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("AWS_LAMBDA_FUNCTION_NAME", "HELPDESK_LOCAL", "HELPDESK_TOKEN_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HELPDESK_TABLE", "t")
    monkeypatch.setenv("HELPDESK_MAIL_BUCKET", "m")
    monkeypatch.setenv("HELPDESK_ATTACHMENT_BUCKET", "a")
    return monkeypatch


def test_a_missing_variable_is_named(environment: pytest.MonkeyPatch) -> None:
    environment.delenv("HELPDESK_TABLE")

    with pytest.raises(ConfigurationError, match="HELPDESK_TABLE"):
        load(IngestSettings)


def test_the_local_token_secret_is_refused_inside_lambda(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("AWS_LAMBDA_FUNCTION_NAME", "helpdesk-IngestFunction")

    with pytest.raises(ConfigurationError, match="HELPDESK_TOKEN_SECRET"):
        load(IngestSettings)


def test_a_secret_of_its_own_is_accepted_inside_lambda(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("AWS_LAMBDA_FUNCTION_NAME", "helpdesk-IngestFunction")
    environment.setenv("HELPDESK_TOKEN_SECRET", "x" * 32)

    assert load(IngestSettings).token_secret == "x" * 32


def test_the_local_desk_keeps_its_development_secret(environment: pytest.MonkeyPatch) -> None:
    assert load(IngestSettings).token_secret == "local-development-secret"
