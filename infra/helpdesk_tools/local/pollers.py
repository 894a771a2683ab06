"""The event source mappings: the table's stream into triage, the outbound queue into the
sender, and the schedule into the SLA sweep. Each runs on its own thread until stopped.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from helpdesk_tools.local.events import (
    matches_triage_filter,
    schedule_event,
    sqs_event,
    stream_record,
)
from helpdesk_tools.local.runtime import FunctionMissingError

logger = logging.getLogger(__name__)

Invoke = Callable[[dict[str, Any]], Any]


class _Loop:
    """A thread that calls `tick` every `interval` seconds until stopped."""

    name = "loop"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._missing_logged = False
        self.idle = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.tick()
            except FunctionMissingError as error:
                busy = False
                if not self._missing_logged:
                    logger.warning(
                        "function missing; its events wait",
                        extra={"component": self.name, "reason": str(error)},
                    )
                    self._missing_logged = True
            except Exception:
                busy = False
                logger.exception("poller failed", extra={"component": self.name})
            if busy:
                self.idle.clear()
                continue
            self.idle.set()
            self._stop.wait(self.interval)

    def tick(self) -> bool:
        """One poll; returns True when there may be more work right away."""
        raise NotImplementedError


def _ticket_numbers(records: list[dict[str, Any]]) -> list[int]:
    numbers = []
    for record in records:
        key = record.get("dynamodb", {}).get("Keys", {}).get("PK", {}).get("S", "")
        if key.startswith("TICKET#") and key[7:].isdigit():
            numbers.append(int(key[7:]))
    return sorted(set(numbers))


class StreamPoller(_Loop):
    """Reads the table's stream from LATEST and invokes triage in batches, as the TicketStream
    event source mapping does: filter, batch, partial batch failures retried up to
    `max_retries` times, then the failed records set aside to the on-failure queue."""

    name = "stream"

    def __init__(
        self,
        *,
        streams: Any,
        sqs: Any,
        stream_arn: str,
        failure_queue_url: str,
        invoke: Invoke,
        function_available: Callable[[], bool],
        batch_size: int = 25,
        max_retries: int = 3,
        retry_delay: float = 1.0,
        interval: float = 0.5,
        record_filter: Callable[[dict[str, Any]], bool] = matches_triage_filter,
        backlog: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(interval)
        self._streams = streams
        self._sqs = sqs
        self._arn = stream_arn
        self._failure_queue = failure_queue_url
        self._invoke = invoke
        self._available = function_available
        self._batch_size = batch_size
        self._max_retries = max_retries
        self._retry_delay = retry_delay
        self._filter = record_filter
        self._iterators: dict[str, str] = {}
        # Records a previous run read from its stream and never delivered come first.
        self._pending: list[dict[str, Any]] = list(backlog or [])
        self.delivered = 0
        self.set_aside = 0
        self._start_iterators()

    def _start_iterators(self) -> None:
        # Iterators are taken at construction, so that nothing written after it is missed.
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        for shard in shards:
            if shard["ShardId"] not in self._iterators:
                self._iterators[shard["ShardId"]] = self._streams.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
                )["ShardIterator"]

    def tick(self) -> bool:
        more = False
        if not self._pending:
            more = self._read()
        if not self._pending:
            return more
        if not self._available():
            # The function is not there yet: hold the records, as a disabled mapping would.
            raise FunctionMissingError("functions/triage/app.py does not exist yet")
        batch, self._pending = self._pending[: self._batch_size], self._pending[self._batch_size :]
        self._process(batch)
        return True  # the stream may hold more: read again before resting

    def backlog(self) -> list[dict[str, Any]]:
        """After stop(): the records read or still in the stream that triage has not had."""
        while self._read():
            pass
        return list(self._pending)

    def _read(self) -> bool:
        """Read one page from each shard; returns True when a page came back full."""
        full = False
        for shard_id, iterator in list(self._iterators.items()):
            if not iterator:
                continue
            # NOTE: one batch at a time: moto takes about 5 ms a record to serialise a page,
            # and every other call to the local endpoint waits meanwhile.
            response = self._streams.get_records(ShardIterator=iterator, Limit=self._batch_size)
            self._iterators[shard_id] = response.get("NextShardIterator") or ""
            records = response.get("Records", [])
            full = full or len(records) >= self._batch_size
            for raw in records:
                record = stream_record(raw, self._arn)
                if self._filter(record):
                    self._pending.append(record)
        return full

    def _process(self, batch: list[dict[str, Any]]) -> None:
        remaining = batch
        for attempt in range(self._max_retries + 1):
            failed = self._invoke_batch(remaining, attempt)
            self.delivered += len(remaining) - len(failed)
            if not failed:
                return
            remaining = failed
            if attempt < self._max_retries and self._retry_delay:
                time.sleep(self._retry_delay * (2**attempt))
        self._set_aside(remaining)

    def _invoke_batch(self, records: list[dict[str, Any]], attempt: int) -> list[dict[str, Any]]:
        extra = {
            "component": "stream",
            "records": len(records),
            "tickets": _ticket_numbers(records),
            "attempt": attempt + 1,
        }
        try:
            result = self._invoke({"Records": records})
        except FunctionMissingError:
            raise
        except Exception:
            logger.exception("triage batch failed as a whole", extra=extra)
            return records
        failures = {
            str(item.get("itemIdentifier"))
            for item in (result or {}).get("batchItemFailures", [])
            if isinstance(item, dict)
        }
        failed = [r for r in records if r["dynamodb"].get("SequenceNumber") in failures]
        if failed:
            logger.warning(
                "triage reported failed records",
                extra={**extra, "failed_tickets": _ticket_numbers(failed)},
            )
        else:
            logger.info("triage batch done", extra=extra)
        return failed

    def _set_aside(self, records: list[dict[str, Any]]) -> None:
        # Lambda's on-failure record for a stream: the batch's position, no payload. The
        # record itself is added here, so that a local user can see what failed.
        for record in records:
            sequence = record["dynamodb"].get("SequenceNumber")
            body = {
                "requestContext": {
                    "condition": "RetryAttemptsExhausted",
                    "approximateInvokeCount": self._max_retries + 1,
                },
                "DDBStreamBatchInfo": {
                    "startSequenceNumber": sequence,
                    "endSequenceNumber": sequence,
                    "batchSize": 1,
                    "streamArn": self._arn,
                },
                "timestamp": datetime.now(UTC).isoformat(),
                "record": record,
            }
            self._sqs.send_message(QueueUrl=self._failure_queue, MessageBody=json.dumps(body))
            self.set_aside += 1
        logger.error(
            "triage records set aside to the failure queue",
            extra={"component": "stream", "tickets": _ticket_numbers(records)},
        )


class QueuePoller(_Loop):
    """Receives from an SQS queue and invokes a function with SQS events, as the Outbound event
    source mapping does: a message is deleted only when the function did not report it failed;
    the queue's redrive policy moves it to the dead-letter queue after maxReceiveCount."""

    name = "outbound"

    def __init__(
        self,
        *,
        sqs: Any,
        queue_url: str,
        invoke: Invoke,
        function_available: Callable[[], bool],
        batch_size: int = 10,
        interval: float = 0.5,
        visibility_timeout: int | None = None,
    ) -> None:
        super().__init__(interval)
        self._sqs = sqs
        self._url = queue_url
        self._invoke = invoke
        self._available = function_available
        self._batch_size = batch_size
        self._visibility = visibility_timeout
        self._arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.delivered = 0

    def tick(self) -> bool:
        if not self._available():
            raise FunctionMissingError("functions/ingest/sender.py does not exist yet")
        kwargs: dict[str, Any] = {
            "QueueUrl": self._url,
            "MaxNumberOfMessages": self._batch_size,
            "AttributeNames": ["All"],
            "MessageAttributeNames": ["All"],
            # NOTE: no long polling: moto sleeps inside the request, which the serialised
            # local endpoint would hold for every other caller.
            "WaitTimeSeconds": 0,
        }
        if self._visibility is not None:
            kwargs["VisibilityTimeout"] = self._visibility
        messages = self._sqs.receive_message(**kwargs).get("Messages", [])
        if not messages:
            return False
        event = sqs_event(messages, self._arn)
        try:
            result = self._invoke(event)
        except FunctionMissingError:
            raise
        except Exception:
            logger.exception(
                "sender failed as a whole; messages stay queued",
                extra={"component": "outbound", "messages": len(messages)},
            )
            return False
        failures = {
            str(item.get("itemIdentifier"))
            for item in (result or {}).get("batchItemFailures", [])
            if isinstance(item, dict)
        }
        done = [m for m in messages if m["MessageId"] not in failures]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self._url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        self.delivered += len(done)
        level = logging.WARNING if failures else logging.INFO
        logger.log(
            level,
            "outbound batch done",
            extra={"component": "outbound", "sent": len(done), "failed": len(failures)},
        )
        return len(messages) == self._batch_size


class Schedule(_Loop):
    """Fires a function with the EventBridge scheduled event every `interval` seconds."""

    name = "schedule"

    def __init__(self, *, invoke: Invoke, interval: float, rule: str) -> None:
        super().__init__(interval)
        self._invoke = invoke
        self._rule = rule
        self.fired = 0
        self._first = True

    def tick(self) -> bool:
        # rate(...) fires one interval after the rule exists, not at once.
        if self._first:
            self._first = False
            return False
        try:
            result = self._invoke(schedule_event(datetime.now(UTC), self._rule))
        except FunctionMissingError:
            raise
        except Exception:
            self.fired += 1
            logger.exception("sla sweep failed", extra={"component": "schedule"})
            return False
        self.fired += 1
        logger.info(
            "sla sweep done",
            extra={"component": "schedule", "result": result if result else None},
        )
        return False
