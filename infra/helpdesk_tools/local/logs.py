"""Readable logs for the local stack: one line per event, with the ticket number up front.

The functions log with Powertools, as JSON, which suits CloudWatch and not a terminal. Locally
their formatters keep building the same structured record (appended keys included) and only
its last step, serialisation, becomes a compact line.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime
from typing import Any

# Fields every Powertools record carries; a terminal line leaves them out.
_QUIET = {
    "name",
    "level",
    "location",
    "message",
    "timestamp",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "xray_trace_id",
    "sampling_rate",
    "exception",
    "exception_name",
    "exception_notes",
    "stack_trace",
}
_TICKET_KEYS = ("ticket_number", "ticket", "number")

# NOTE: all functions share one process and Powertools' logger named after the service, so
# the function a line comes from is taken from the invoking thread, not the shared keys.
current = threading.local()


def compact_line(record: dict[str, Any], function: str | None = None) -> str:
    """One log record as `time level [function] #ticket message key=value ...`."""
    stamp = datetime.now(UTC).strftime("%H:%M:%S.%f")[:-3]
    level = str(record.get("level", "INFO"))
    function = str(
        function
        or getattr(current, "function", None)
        or record.get("function_name")
        or record.get("service")
        or ""
    )
    parts = [stamp, f"{level:<7}", f"[{function.removeprefix('helpdesk-')}]"]
    ticket = next((record[key] for key in _TICKET_KEYS if record.get(key) is not None), None)
    if ticket is not None:
        parts.append(f"#{ticket}")
    parts.append(str(record.get("message", "")))
    for key, value in record.items():
        if key in _QUIET or key in _TICKET_KEYS or value in (None, "", [], {}):
            continue
        parts.append(f"{key}={_short(value)}")
    line = " ".join(parts)
    if record.get("exception"):
        line += "\n" + str(record["exception"])
    return line


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text.replace("\n", " ")
    return text if len(text) <= 120 else text[:117] + "..."


class CompactFormatter(logging.Formatter):
    """The local stack's own log lines, in the same shape as the functions' lines."""

    def format(self, record: logging.LogRecord) -> str:
        component = getattr(record, "component", None) or _short_name(record.name)
        fields: dict[str, Any] = {"level": record.levelname, "message": record.getMessage()}
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key != "component":
                fields[key] = value
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return compact_line(fields, function=component)


def _short_name(name: str) -> str:
    return name.rsplit(".", 1)[-1]


_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class _LocalHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root handler. Powertools adds a filter to root handlers that drops every record
    whose logger name contains its service name, which would drop `helpdesk_tools.*` too;
    this handler drops only records that a Powertools handler up their hierarchy printed."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _printed_by_powertools(record.name)


def _printed_by_powertools(name: str) -> bool:
    node: logging.Logger | None = logging.getLogger(name)
    while node is not None and node is not logging.getLogger():
        if any(_is_powertools(handler.formatter) for handler in node.handlers):
            return True
        if not node.propagate:
            return False
        node = node.parent
    return False


def _is_powertools(formatter: logging.Formatter | None) -> bool:
    return formatter is not None and type(formatter).__module__.startswith("aws_lambda_powertools")


def configure(level: int = logging.INFO, stream: Any = None) -> None:
    """Send the local stack's logs to `stream` (stdout by default) as compact lines."""
    handler = _LocalHandler(stream or sys.stdout)
    handler.setFormatter(CompactFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_helpdesk_local", False):
            root.removeHandler(existing)
    handler._helpdesk_local = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "mail.log", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def compact_powertools_loggers() -> None:
    """Make every Powertools formatter in this process serialise to compact lines."""
    try:
        from aws_lambda_powertools.logging.formatter import BasePowertoolsFormatter
    except ImportError:  # pragma: no cover - Powertools is in the pinned set
        return
    loggers = [logging.getLogger()] + [
        item
        for item in logging.Logger.manager.loggerDict.values()
        if isinstance(item, logging.Logger)
    ]
    for each in loggers:
        for handler in each.handlers:
            formatter = handler.formatter
            if isinstance(formatter, BasePowertoolsFormatter) and hasattr(
                formatter, "json_serializer"
            ):
                formatter.json_serializer = compact_line
