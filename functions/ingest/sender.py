"""Sender function: queued outbound mail from SQS to SES v2, with partial batch failures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.mail.outbound import SendJob
from helpdesk.mail.sender import default_sender

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"helpdesk"})
processor = BatchProcessor(event_type=EventType.SQS)


def send_one(record: SQSRecord) -> None:
    attempt = int(record.raw_event.get("attributes", {}).get("ApproximateReceiveCount") or 1)
    default_sender().send(SendJob.from_json(record.body), now=datetime.now(UTC), attempt=attempt)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = process_partial_response(
        event=event, record_handler=send_one, processor=processor, context=context
    )
    return dict(response)
