"""The SLA function: every minute, warn, breach and escalate the deadlines that are due."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.sla.runtime import handle_event

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"helpdesk"})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Sweep once per scheduled event (other detail-types are ignored); returns its counts."""
    result = handle_event(event, now=datetime.now(UTC))
    logger.info("sla event handled", result=result)
    return result
