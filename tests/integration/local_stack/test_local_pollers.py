"""The event source mappings of the local stack: the table's stream into triage, with partial
batch failures, and the outbound queue into the sender."""

from __future__ import annotations

import json
from typing import Any

from helpdesk_tools.local.pollers import QueuePoller, StreamPoller


class _Triage:
    """A stand-in triage handler for these tests only: reports the records of one ticket as
    failed every time, and remembers which tickets each invocation carried."""

    def __init__(self, failing_ticket: str) -> None:
        self.failing = failing_ticket
        self.batches: list[list[str]] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        keys = [record["dynamodb"]["Keys"]["PK"]["S"] for record in event["Records"]]
        self.batches.append(keys)
        return {
            "batchItemFailures": [
                {"itemIdentifier": record["dynamodb"]["SequenceNumber"]}
                for record in event["Records"]
                if record["dynamodb"]["Keys"]["PK"]["S"] == self.failing
            ]
        }


def _poller(aws: Any, stack: Any, handler: Any, **overrides: Any) -> StreamPoller:
    table = stack.tables["Table"]
    arn = aws.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    return StreamPoller(
        streams=aws.client("dynamodbstreams"),
        sqs=aws.client("sqs"),
        stream_arn=arn,
        failure_queue_url=stack.queue_urls["TriageFailureQueue"],
        invoke=handler,
        function_available=lambda: True,
        retry_delay=0,
        **overrides,
    )


def _drain(poller: StreamPoller) -> None:
    # What the poller's thread does, without the thread: poll until nothing is left.
    while poller.tick():
        pass


def _failure_messages(aws: Any, stack: Any) -> list[dict[str, Any]]:
    response = aws.client("sqs").receive_message(
        QueueUrl=stack.queue_urls["TriageFailureQueue"], MaxNumberOfMessages=10
    )
    return [json.loads(message["Body"]) for message in response.get("Messages", [])]


def test_failing_record_is_retried_then_set_aside_while_the_others_proceed(
    aws: Any, stack: Any, table: Any
) -> None:
    triage = _Triage(failing_ticket="TICKET#2")
    poller = _poller(aws, stack, triage)
    for number in (1, 2, 3):
        table.put_item(Item={"PK": f"TICKET#{number}", "SK": "TICKET", "subject": "s"})

    _drain(poller)

    assert triage.batches[0] == ["TICKET#1", "TICKET#2", "TICKET#3"]
    assert triage.batches[1:] == [["TICKET#2"]] * 3  # MaximumRetryAttempts: 3
    (failure,) = _failure_messages(aws, stack)
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["record"]["dynamodb"]["Keys"]["PK"] == {"S": "TICKET#2"}
    stream_arn = aws.client("dynamodb").describe_table(TableName=stack.tables["Table"])["Table"][
        "LatestStreamArn"
    ]
    assert failure["DDBStreamBatchInfo"]["streamArn"] == stream_arn
    assert poller.delivered == 2
    assert poller.set_aside == 1


def test_a_handler_that_raises_fails_the_whole_batch(aws: Any, stack: Any, table: Any) -> None:
    calls: list[int] = []

    def crash(event: dict[str, Any]) -> None:
        calls.append(len(event["Records"]))
        raise RuntimeError("model failed to load")

    poller = _poller(aws, stack, crash, max_retries=1)
    table.put_item(Item={"PK": "TICKET#1", "SK": "TICKET"})
    table.put_item(Item={"PK": "TICKET#2", "SK": "TICKET"})

    _drain(poller)

    assert calls == [2, 2]
    assert len(_failure_messages(aws, stack)) == 2


def test_only_ticket_changes_and_new_messages_reach_triage(
    aws: Any, stack: Any, table: Any
) -> None:
    triage = _Triage(failing_ticket="none")
    poller = _poller(aws, stack, triage)
    table.put_item(Item={"PK": "TICKET#1", "SK": "TICKET", "status": "open"})
    table.put_item(Item={"PK": "TICKET#1", "SK": "MSG#2026-12-04T10:00:00.000000Z#a"})
    table.put_item(Item={"PK": "TICKET#1", "SK": "AUDIT#2026-12-04T10:00:00.000000Z#1"})
    table.put_item(Item={"PK": "MSGID#x@example.org", "SK": "MSGID"})
    table.put_item(Item={"PK": "TICKET#1", "SK": "MSG#2026-12-04T10:00:00.000000Z#a", "v": 2})
    table.put_item(Item={"PK": "TICKET#1", "SK": "TICKET", "status": "pending"})

    _drain(poller)

    delivered = [key for batch in triage.batches for key in batch]
    assert delivered == ["TICKET#1", "TICKET#1", "TICKET#1"]  # insert, message insert, modify


def test_stream_records_have_the_lambda_event_shape(aws: Any, stack: Any, table: Any) -> None:
    events: list[dict[str, Any]] = []
    poller = _poller(aws, stack, lambda event: events.append(event))
    table.put_item(Item={"PK": "TICKET#9", "SK": "TICKET", "subject": "s"})

    _drain(poller)

    record = events[0]["Records"][0]
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventName"] == "INSERT"
    assert record["eventSourceARN"].startswith("arn:aws:dynamodb:")
    assert record["dynamodb"]["NewImage"]["subject"] == {"S": "s"}
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], float)
    assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"


def test_outbound_messages_reported_failed_stay_queued(aws: Any, stack: Any) -> None:
    sqs = aws.client("sqs")
    url = stack.queue_urls["OutboundQueue"]
    for name in ("ok", "throttled"):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"job": name}))
    seen: list[str] = []

    def sender(event: dict[str, Any]) -> dict[str, Any]:
        seen.extend(json.loads(record["body"])["job"] for record in event["Records"])
        return {
            "batchItemFailures": [
                {"itemIdentifier": record["messageId"]}
                for record in event["Records"]
                if "throttled" in record["body"]
            ]
        }

    poller = QueuePoller(
        sqs=sqs,
        queue_url=url,
        invoke=sender,
        function_available=lambda: True,
        visibility_timeout=0,
    )
    poller.tick()
    poller.tick()

    assert seen.count("ok") == 1
    assert seen.count("throttled") == 2
    assert poller.delivered == 1


def test_records_triage_never_had_are_handed_to_the_next_run(
    aws: Any, stack: Any, table: Any
) -> None:
    # GIVEN a run that stops before triage reads two new tickets
    stopped = _poller(aws, stack, _Triage(failing_ticket="none"))
    table.put_item(Item={"PK": "TICKET#1", "SK": "TICKET"})
    table.put_item(Item={"PK": "TICKET#1", "SK": "AUDIT#1"})
    table.put_item(Item={"PK": "TICKET#2", "SK": "TICKET"})
    backlog = json.loads(json.dumps(stopped.backlog()))  # as saved in the state file

    # WHEN the next run starts with that backlog
    triage = _Triage(failing_ticket="none")
    _drain(_poller(aws, stack, triage, backlog=backlog))

    # THEN triage gets exactly the records it never had
    assert triage.batches == [["TICKET#1", "TICKET#2"]]


def test_outbound_mail_that_keeps_failing_moves_to_the_dead_letter_queue(
    aws: Any, stack: Any
) -> None:
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=stack.queue_urls["OutboundQueue"], MessageBody='{"job": "bounce"}')
    attempts: list[str] = []

    def sender(event: dict[str, Any]) -> dict[str, Any]:
        attempts.extend(
            record["attributes"]["ApproximateReceiveCount"] for record in event["Records"]
        )
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}

    poller = QueuePoller(
        sqs=sqs,
        queue_url=stack.queue_urls["OutboundQueue"],
        invoke=sender,
        function_available=lambda: True,
        visibility_timeout=0,
    )
    for _ in range(7):
        poller.tick()

    assert attempts == ["1", "2", "3", "4", "5"]  # maxReceiveCount: 5 in template.yaml
    dead = sqs.receive_message(QueueUrl=stack.queue_urls["OutboundDeadLetterQueue"])
    assert [message["Body"] for message in dead["Messages"]] == ['{"job": "bounce"}']
