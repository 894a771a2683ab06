"""SMTP in: stands in for SES receiving. Stores the raw mail as the S3 action would, then hands
the ingest function the Lambda-action event, asynchronously, as SES invokes it (`Event`).

Mail for any domain other than the desk's is refused (550), and mail over the size limit is
refused with 552 5.3.4, both before anything is stored.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from helpdesk_tools.local.events import ses_lambda_event, ses_message_id

logger = logging.getLogger(__name__)
_LOG = {"component": "smtp"}

TOO_BIG = "552 5.3.4 Message size exceeds fixed maximum message size"


class _SizedSMTP(SMTP):
    """aiosmtpd's server with the enhanced status code RFC 3463 gives for too-big mail."""

    async def push(self, status: Any) -> None:
        if isinstance(status, str) and status.startswith("552 Error"):
            logger.warning("mail refused: too big", extra=_LOG)
            status = TOO_BIG
        await super().push(status)


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _SizedSMTP(self.handler, **self.SMTP_kwargs)


class _Handler:
    def __init__(self, inbox: Inbox) -> None:
        self._inbox = inbox

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        domain = address.rpartition("@")[2].lower()
        if domain != self._inbox.mail_domain:
            logger.warning("recipient refused: not this desk's domain", extra=_LOG)
            return "550 5.7.1 Relaying denied: this server accepts mail for its desk only"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message_id = self._inbox.receive(
            raw, envelope.mail_from or "", [str(rcpt) for rcpt in envelope.rcpt_tos]
        )
        return f"250 Ok {message_id}"


class Inbox:
    """Receives raw mail: stores it under inbound/<id> and queues the ingest invocation."""

    def __init__(
        self,
        *,
        s3: Any,
        bucket: str,
        mail_domain: str,
        invoke: Callable[[dict[str, Any]], Any],
        function_arn: str,
        on_failure: Callable[[dict[str, Any], BaseException], None],
        retries: int = 2,
    ) -> None:
        self.mail_domain = mail_domain.lower()
        self._s3 = s3
        self._bucket = bucket
        self._invoke = invoke
        self._function_arn = function_arn
        self._on_failure = on_failure
        self._retries = retries
        self._events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._worker = threading.Thread(target=self._run, name="ingest-invoker", daemon=True)
        self.received = 0
        self.processed = 0

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._events.put(None)
        self._worker.join(timeout=30)

    def receive(self, raw: bytes, envelope_from: str, recipients: list[str]) -> str:
        """Store `raw` where the S3 action would and queue the Lambda action; returns the id."""
        message_id = ses_message_id()
        self._s3.put_object(Bucket=self._bucket, Key=f"inbound/{message_id}", Body=raw)
        event = ses_lambda_event(
            raw=raw,
            message_id=message_id,
            envelope_from=envelope_from,
            recipients=recipients,
            now=datetime.now(UTC),
            function_arn=self._function_arn,
        )
        self.received += 1
        logger.info("mail received", extra={**_LOG, "ses_id": message_id, "size": len(raw)})
        self._events.put(event)
        return message_id

    def drained(self) -> bool:
        """True when every received mail has been handed to ingest."""
        return self._events.unfinished_tasks == 0

    def wait_drained(self, timeout: float) -> bool:
        """Block until every received mail was processed or `timeout` passes."""
        done = threading.Event()

        def join() -> None:
            self._events.join()
            done.set()

        threading.Thread(target=join, daemon=True).start()
        return done.wait(timeout)

    def _run(self) -> None:
        while True:
            event = self._events.get()
            try:
                if event is None:
                    return
                self._deliver(event)
            finally:
                self._events.task_done()

    def _deliver(self, event: dict[str, Any]) -> None:
        # An asynchronous invocation is retried twice, then goes to the dead-letter queue.
        ses_id = event["Records"][0]["ses"]["mail"]["messageId"]
        for attempt in range(self._retries + 1):
            try:
                self._invoke(event)
                self.processed += 1
                return
            except Exception as error:
                if attempt == self._retries:
                    logger.exception(
                        "ingest failed; event set aside", extra={**_LOG, "ses_id": ses_id}
                    )
                    self._on_failure(event, error)
                    self.processed += 1
                    return
                logger.warning(
                    "ingest failed; retrying",
                    extra={**_LOG, "ses_id": ses_id, "attempt": attempt + 1},
                )


class SmtpServer:
    """aiosmtpd on a loopback port, announcing SIZE and delivering to an Inbox."""

    def __init__(self, inbox: Inbox, host: str, port: int, max_bytes: int) -> None:
        self.host = host
        self.port = port
        self._controller = _Controller(
            _Handler(inbox),
            hostname=host,
            port=port,
            data_size_limit=max_bytes,
            ident="helpdesk local SMTP",
        )
        self._started = False

    def start(self) -> None:
        """Listen; raises OSError at once when the port is taken (aiosmtpd would wait on it)."""
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((self.host, self.port))
        self._controller.start()
        self._started = True

    def stop(self) -> None:
        if self._started:
            self._controller.stop()
            self._started = False
