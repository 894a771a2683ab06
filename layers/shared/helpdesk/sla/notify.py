"""Sending SLA notices: signed, retried webhooks to Slack-style endpoints, and mail intents.

A webhook request carries a JSON body (`{"text": ...}` plus the facts) and two headers:
`X-Helpdesk-Request-Timestamp` (Unix seconds) and `X-Helpdesk-Signature`, which is
`v0=` followed by the hex HMAC-SHA256 of `v0:<timestamp>:<body>` under the webhook's secret, as
Slack signs its own requests. A receiver recomputes it and refuses stale timestamps.

Delivery is retried on a connection error, a timeout, 429 and 5xx, with exponential backoff,
a bounded number of times; any other answer is final.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from helpdesk.domain.models import SlaNotification, Ticket

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Helpdesk-Signature"
TIMESTAMP_HEADER = "X-Helpdesk-Request-Timestamp"
RETRYABLE = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Outcome:
    """How a notice went: delivered, or the reason it was not."""

    delivered: bool
    detail: str = ""


class Sender(Protocol):
    def send(self, notice: SlaNotification, ticket: Ticket) -> Outcome: ...


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for `body` sent at `timestamp` under `secret`."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now_epoch: float,
    tolerance: int = 300,
) -> bool:
    """True when `signature` is `body`'s under `secret` and `timestamp` is within `tolerance`
    seconds of `now_epoch` (what a receiver checks)."""
    if not timestamp.isdigit() or abs(now_epoch - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def notice_text(notice: SlaNotification, ticket: Ticket) -> str:
    """The human line of a notice: which ticket, which target, warning or breach."""
    target = notice.target.replace("_", " ")
    clock = getattr(ticket.sla, notice.target)
    due = clock.due.isoformat() if clock.due else "unknown"
    word = "breached" if notice.kind == "breach" else "is close to its deadline"
    return f"Ticket #{ticket.number} ({ticket.priority.value}): {target} {word}; due {due}."


class WebhookSender:
    """Posts notices to webhooks, signed with the secret the notice names."""

    def __init__(
        self,
        secrets: Mapping[str, str],
        *,
        attempts: int = 4,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 8.0,
        timeout_seconds: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secrets = dict(secrets)
        self._attempts = max(1, attempts)
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._timeout = timeout_seconds
        self._sleep = sleep
        self._clock = clock

    def send(self, notice: SlaNotification, ticket: Ticket) -> Outcome:
        """Deliver one notice; returns the outcome (never raises for a network failure)."""
        secret = self._secrets.get(notice.secret)
        if secret is None:
            return Outcome(False, f"no webhook secret named {notice.secret}")
        body = json.dumps(_payload(notice, ticket), sort_keys=True).encode()
        detail = ""
        for attempt in range(self._attempts):
            if attempt:
                self._sleep(min(self._max_backoff, self._backoff * 2 ** (attempt - 1)))
            timestamp = int(self._clock())
            status, detail = self._post(notice.destination, body, secret, timestamp)
            if status is not None and 200 <= status < 300:
                return Outcome(True, f"http {status}")
            if status is not None and status not in RETRYABLE:
                return Outcome(False, detail)
            logger.debug("webhook attempt failed", extra={"attempt": attempt + 1, "detail": detail})
        return Outcome(False, f"gave up after {self._attempts} attempts: {detail}")

    def _post(self, url: str, body: bytes, secret: str, timestamp: int) -> tuple[int | None, str]:
        request = urllib.request.Request(  # noqa: S310 - the policy's configured webhook URL
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(secret, timestamp, body),
            },
        )
        try:
            with _OPENER.open(request, timeout=self._timeout) as response:
                return int(response.status), f"http {response.status}"
        except urllib.error.HTTPError as error:
            return int(error.code), f"http {error.code}"
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            return None, type(error).__name__


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an invitation: the signed body goes only where configured."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


class MailIntentSender:
    """Mail notices to agents or managers: recorded on the ticket, not yet sent.

    NOTE: helpdesk.mail.outbound sends a ticket's own messages to its requester; there is no
    sender yet for internal mail to an agent, so an email notice is kept as an intent in the
    ticket's SLA outbox (with its audit event and domain event) and marked undelivered.
    """

    def send(self, notice: SlaNotification, ticket: Ticket) -> Outcome:
        """Always an undelivered outcome that says the notice is kept as an intent."""
        return Outcome(False, "recorded as an intent: no internal mail sender yet")


class MailNoticeSender:
    """Mail notices to agents or managers: an internal notice queued for the outbound sender
    (helpdesk.mail.outbound.queue_notice), never shown to the customer."""

    def __init__(self, tickets: Any, queue: Any, settings: Any) -> None:
        self._tickets = tickets
        self._queue = queue
        self._settings = settings

    def send(self, notice: SlaNotification, ticket: Ticket) -> Outcome:
        """Queue the notice's mail; an undelivered outcome when it cannot be queued."""
        from helpdesk.exceptions import HelpdeskError
        from helpdesk.mail.outbound import queue_notice

        try:
            queue_notice(
                self._tickets,
                self._queue,
                self._settings,
                ticket_number=ticket.number,
                to=notice.destination,
                text=notice_text(notice, ticket),
                author="sla",
                now=notice.claimed_at or notice.not_before,
            )
        except HelpdeskError as error:
            return Outcome(False, f"not queued: {type(error).__name__}")
        return Outcome(True, "queued for sending")


class Notifier:
    """Routes a notice to the sender of its channel."""

    def __init__(self, senders: Mapping[str, Sender]) -> None:
        self._senders = dict(senders)

    def send(self, notice: SlaNotification, ticket: Ticket) -> Outcome:
        """The outcome of sending `notice`; an unknown channel is an undelivered outcome."""
        sender = self._senders.get(notice.channel)
        if sender is None:
            return Outcome(False, f"no sender for channel {notice.channel}")
        return sender.send(notice, ticket)


def _payload(notice: SlaNotification, ticket: Ticket) -> dict[str, Any]:
    clock = getattr(ticket.sla, notice.target)
    return {
        "text": notice_text(notice, ticket),
        "notice_id": notice.id,
        "ticket_number": ticket.number,
        "kind": notice.kind,
        "target": notice.target,
        "due": clock.due.isoformat() if clock.due else None,
        "priority": ticket.priority.value,
    }
