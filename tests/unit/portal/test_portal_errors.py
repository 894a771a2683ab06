"""One mapping from the package's errors to HTTP."""

from __future__ import annotations

import logging

import pytest
from pydantic import BaseModel

from helpdesk.exceptions import (
    ConflictError,
    ForbiddenError,
    IllegalTransitionError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    UnauthorizedError,
    ValidationError,
)
from helpdesk.portal.errors import to_http


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ValidationError("bad", field="subject"), 400, "validation"),
        (IllegalTransitionError("no", field="status"), 400, "illegal_transition"),
        (UnauthorizedError("who"), 401, "unauthorized"),
        (ForbiddenError("no"), 403, "forbidden"),
        (NotFoundError("gone"), 404, "not_found"),
        (ConflictError("stale"), 409, "conflict"),
        (PayloadTooLargeError("big"), 413, "too_large"),
        (RateLimitedError("slow down"), 429, "rate_limited"),
    ],
)
def test_each_domain_error_has_its_status(error: Exception, status: int, code: str) -> None:
    mapped = to_http(error)

    assert (mapped.status, mapped.code) == (status, code)
    assert mapped.body()["error"]["message"] == str(error)


def test_validation_errors_name_their_field() -> None:
    mapped = to_http(ValidationError("bad", field="subject"))

    assert mapped.body() == {"error": {"code": "validation", "message": "bad", "field": "subject"}}


def test_pydantic_errors_name_the_nested_field() -> None:
    class Inner(BaseModel):
        score: int

    class Outer(BaseModel):
        rating: Inner

    with pytest.raises(Exception) as raised:
        Outer.model_validate({"rating": {"score": "many"}})

    mapped = to_http(raised.value)

    assert mapped.status == 400
    assert mapped.field == "rating.score"


def test_an_unexpected_error_is_a_generic_500_that_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR):
        mapped = to_http(KeyError("secret internal detail"))

    assert mapped.status == 500
    assert "secret internal detail" not in str(mapped.body())
    assert "Traceback" not in str(mapped.body())
    assert any(record.exc_info for record in caplog.records)


def test_a_rate_limit_says_when_to_retry() -> None:
    error = RateLimitedError("slow down")
    error.retry_after = 42  # type: ignore[attr-defined]

    assert to_http(error).headers == {"Retry-After": "42"}
