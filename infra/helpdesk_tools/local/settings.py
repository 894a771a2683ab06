"""The local stack's settings: ports, limits and timings, each with a working default.

Kept apart from the stack itself so that the command line can show the defaults without
importing boto3, moto or the functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from helpdesk_tools.template import ROOT

STATE_DIR = ROOT / ".local"
STACK_FILE = "stack.json"


@dataclass
class LocalSettings:
    """Ports, limits and timings of the local stack; every one has a working default."""

    host: str = "127.0.0.1"
    smtp_port: int = 2525
    http_port: int = 8080
    aws_port: int = 0
    mail_domain: str = "example.com"
    prefix: str = "helpdesk"
    max_message_bytes: int = 40 * 1024 * 1024  # what SES receiving accepts
    sla_interval: float = 60.0
    poll_interval: float = 0.5
    stream_max_retries: int = 3
    stream_retry_delay: float = 1.0
    url_prefix: str = "/api"  # the stage, as API Gateway serves it; "" serves at the root
    outbound_visibility_timeout: int | None = None
    state_dir: Path = field(default_factory=lambda: STATE_DIR)
