"""Fixtures for the portal API against moto: the real function module, a desk built from
template.yaml, agents signed in through the pool, customers signed in through mailed links."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from chalice.test import Client

from helpdesk.data.config import ConfigRepository
from helpdesk.domain.models import Agent, Role, Team
from helpdesk.portal import context
from tests.integration.portal.support import (
    SESSION_SECRET,
    WEBHOOK_SECRET,
    Desk,
    load_portal_function,
)


@pytest.fixture(scope="session")
def portal_function() -> Any:
    return load_portal_function()


@pytest.fixture
def desk(
    aws: boto3.session.Session,
    stack: Any,
    table: Any,
    moto_endpoint: str,
    portal_function: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Desk]:
    for name, value in stack.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HELPDESK_DEV_LOGIN", "1")
    monkeypatch.setenv("HELPDESK_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("HELPDESK_SESSION_SECRET", SESSION_SECRET)
    monkeypatch.setenv("HELPDESK_PUBLIC_URL", "http://127.0.0.1:9")
    context.reset()
    aws.client("sesv2").create_email_identity(EmailIdentity="example.com")

    config = ConfigRepository(table)
    for team in ("support", "billing"):
        config.put("teams", team, Team(id=team, name=team.title()))
    people = [
        Agent(id="ada", email="ada@desk.example", name="Ada", role=Role.ADMIN, teams=["support"]),
        Agent(id="bob", email="bob@desk.example", name="Bob", teams=["support"]),
        Agent(id="cy", email="cy@desk.example", name="Cy", teams=["billing"]),
    ]
    for person in people:
        config.put("agents", person.id, person)

    with Client(portal_function.app) as client:
        yield Desk(client=client, table=table, aws=aws, endpoint=moto_endpoint, stack=stack)
    context.reset()
