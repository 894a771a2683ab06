"""The one mapping from the package's errors to HTTP statuses and JSON error bodies."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from helpdesk.exceptions import (
    ConflictError,
    DuplicateDeliveryError,
    ForbiddenError,
    HelpdeskError,
    IllegalTransitionError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitedError,
    SlaError,
    UnauthorizedError,
    ValidationError,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpError:
    """An error as the client sees it."""

    status: int
    code: str
    message: str
    field: str | None = None
    headers: dict[str, str] | None = None

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "field": self.field}}


# Most specific first: IllegalTransitionError is a ValidationError.
_STATUSES: list[tuple[type[HelpdeskError], int, str]] = [
    (IllegalTransitionError, 400, "illegal_transition"),
    (ValidationError, 400, "validation"),
    (SlaError, 400, "validation"),
    (UnauthorizedError, 401, "unauthorized"),
    (ForbiddenError, 403, "forbidden"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (DuplicateDeliveryError, 409, "conflict"),
    (PayloadTooLargeError, 413, "too_large"),
    (RateLimitedError, 429, "rate_limited"),
]

_GENERIC = "something went wrong on our side; the error was logged"


def to_http(error: BaseException) -> HttpError:
    """The HTTP form of any exception; unexpected ones become a logged, generic 500."""
    if isinstance(error, PydanticValidationError):
        return _from_pydantic(error)
    for kind, status, code in _STATUSES:
        if isinstance(error, kind):
            field = getattr(error, "field", None)
            headers = None
            if isinstance(error, RateLimitedError):
                headers = {"Retry-After": str(getattr(error, "retry_after", 60))}
            return HttpError(status, code, str(error) or code, field, headers)
    logger.exception("unexpected error in the portal", exc_info=error)
    return HttpError(500, "internal", _GENERIC)


def _from_pydantic(error: PydanticValidationError) -> HttpError:
    first = error.errors(include_url=False, include_input=False)[0]
    field = ".".join(str(part) for part in first["loc"]) or None
    message = first["msg"]
    if field:
        message = f"{field}: {message}"
    return HttpError(400, "validation", message, field)
