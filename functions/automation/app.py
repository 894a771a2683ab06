"""Automation function: stream records to report counters and rules (partial batch failures),
and, on its one-minute schedule, the time rules that have fallen due."""

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
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.automation.runtime import default_processor

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"helpdesk"})
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def process_one(record: DynamoDBRecord) -> None:
    default_processor().process(record.raw_event, now=datetime.now(UTC))


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("detail-type") == "Scheduled Event":
        now = datetime.now(UTC)
        swept = default_processor().sweep(now=now)
        moved = default_processor().reassign_away(now=now)
        logger.info("automation swept", time_rules=len(swept), reassigned=len(moved))
        return {"swept": swept, "reassigned": [number for number, _agent in moved]}
    response = process_partial_response(
        event=event, record_handler=process_one, processor=processor, context=context
    )
    return dict(response)
