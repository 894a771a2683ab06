"""Cached factories for the real AWS clients, built lazily on first use.

The endpoint comes from configuration (AWS_ENDPOINT_URL and friends, read by boto3 itself), so
the same code talks to AWS in Lambda and to the local endpoint on one machine.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache, lru_cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 8}, connect_timeout=5, read_timeout=30
)


# Called with each new session before any client is made from it (a cost meter listens to
# every call this way); empty in Lambda.
session_observers: list[Callable[[boto3.session.Session], None]] = []


@lru_cache(maxsize=1)
def session() -> boto3.session.Session:
    built = boto3.session.Session()
    for observe in session_observers:
        observe(built)
    return built


@cache
def client(service: str) -> Any:
    """A boto3 client for `service`, shared by every call in this process."""
    return session().client(service, config=_CONFIG)  # type: ignore[call-overload]


@cache
def table(name: str) -> Any:
    """A DynamoDB Table resource for `name`."""
    return session().resource("dynamodb", config=_CONFIG).Table(name)
