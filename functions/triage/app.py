"""Triage function: DynamoDB stream batches to triaged, grouped and indexed tickets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.ai.service import handle_batch

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"helpdesk"})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = handle_batch(event, context, now=datetime.now(UTC))
    logger.info(
        "stream batch triaged",
        records=len(event.get("Records", [])),
        failed=len(response.get("batchItemFailures", [])),
    )
    return response
