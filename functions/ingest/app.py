"""Ingest function: an SES receipt (Lambda action after the S3 action, or SNS action) to tickets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.typing import LambdaContext

from helpdesk.mail.ingest import ingest_event

logger = Logger()
copy_config_to_registered_loggers(source_logger=logger, include={"helpdesk"})


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    results = ingest_event(event, now=datetime.now(UTC))
    summary = [
        {
            "disposition": result.disposition.value,
            "outcome": result.outcome.value,
            "reason": result.reason,
            "ticket_number": result.ticket_number,
            "acknowledged": result.acknowledged,
        }
        for result in results
    ]
    logger.info("mail ingested", results=summary)
    # SES reads `disposition` when it invokes synchronously; the mail goes on to later rules.
    return {"disposition": "CONTINUE", "results": summary}
