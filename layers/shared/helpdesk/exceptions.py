"""The package's error hierarchy; the portal maps these to HTTP in exactly one place."""

from __future__ import annotations


class HelpdeskError(Exception):
    """Base of every error the package raises on purpose."""


class ValidationError(HelpdeskError):
    """Input that breaks a rule; `field` names the offending field where one is known."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(HelpdeskError):
    """The item asked for does not exist (or the caller may not know that it does)."""


class ConflictError(HelpdeskError):
    """A write lost a race: the item changed since it was read. Re-read and retry."""


class DuplicateDeliveryError(HelpdeskError):
    """The same mail (by Message-ID) was already stored; the second delivery is refused."""


class IllegalTransitionError(ValidationError):
    """A status change that the ticket's lifecycle does not allow."""


class UnauthorizedError(HelpdeskError):
    """No valid credentials were presented."""


class ForbiddenError(HelpdeskError):
    """Valid credentials, but not allowed to do this."""


class PayloadTooLargeError(HelpdeskError):
    """A body or an attachment over the configured limit."""


class RateLimitedError(HelpdeskError):
    """Too many requests or automatic mails for one key in the current window."""


class ConfigurationError(HelpdeskError):
    """A setting is missing or malformed; the message names the variable."""


class UnsupportedEventError(ValidationError):
    """An event that is neither an SES receipt (Lambda or SNS action) nor a queued send."""


class RawMailMissingError(NotFoundError):
    """The raw MIME that the SES S3 action should have stored is not in the mail bucket."""


class SendFailedError(HelpdeskError):
    """SES refused an outbound mail for good (rejected, unverified sender); not retried."""


class SendThrottledError(HelpdeskError):
    """SES throttled or failed transiently; the send is retried from its queue."""


class EmbeddingError(HelpdeskError):
    """The embedding model could not be loaded or failed on a text."""


class IndexStoreError(HelpdeskError):
    """The similarity index could not be read, written or queried."""


class TriageError(HelpdeskError):
    """A triager failed (timeout, refusal, invalid output); callers fall back to local triage."""


class SlaError(HelpdeskError):
    """An SLA policy or calendar that cannot produce deadlines."""


class CalendarError(SlaError):
    """A calendar without working time where some is needed (no hours, or none for years)."""


class AnswerError(HelpdeskError):
    """The first responder could not write a grounded answer (LLM error, ungrounded text)."""
