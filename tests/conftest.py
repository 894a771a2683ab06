"""Shared fixtures: the corpus, a moto server on loopback, and a stack built from template.yaml."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


def corpus_root() -> Path:
    """Where ../shared/corpus is; HELPDESK_CORPUS overrides."""
    return Path(os.environ.get("HELPDESK_CORPUS", ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = corpus_root()
    if not path.is_dir():
        pytest.skip(f"the shared corpus is absent at {path} (set HELPDESK_CORPUS)")
    return path


def load_event(name: str) -> dict[str, Any]:
    """A JSON event fixture from tests/fixtures/events, by file name without .json."""
    return json.loads((FIXTURES / "events" / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server in server mode on a free loopback port, for the whole session."""
    from helpdesk_tools.local.aws import LocalAws

    server = LocalAws().start()
    endpoint = server.endpoint
    previous = {name: os.environ.get(name) for name in _AWS_ENV}
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }
    )
    yield endpoint
    server.stop()
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


_AWS_ENV = (
    "AWS_ENDPOINT_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
)


@pytest.fixture
def aws(moto_endpoint: str) -> boto3.session.Session:
    return boto3.session.Session(region_name="us-east-1")


@pytest.fixture
def stack(aws: boto3.session.Session) -> Any:
    """A fresh set of resources from template.yaml, under a unique prefix for this test.

    Services cached by an earlier test (or an earlier local desk) are forgotten first."""
    from helpdesk_tools.local.runtime import forget_process_caches
    from helpdesk_tools.template import create_stack

    forget_process_caches()

    return create_stack(aws, prefix=f"t{uuid.uuid4().hex[:10]}")


@pytest.fixture
def table(aws: boto3.session.Session, stack: Any) -> Any:
    return aws.resource("dynamodb").Table(stack.tables["Table"])
