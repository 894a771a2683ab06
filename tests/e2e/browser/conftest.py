"""Fixtures for the browser tests: the local stack in this process, Debian's Chromium through
Playwright, a loopback sink for hostile payloads, and a watcher for anything a page runs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser.support import CHROMIUM, CHROMIUM_ARGS, RUNNING, Desk, Sink, Watch


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.is_file() and not shutil.which("chromium"):
        pytest.skip(f"Debian's chromium is absent at {CHROMIUM} (infra/bootstrap.sh --browser)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    return CHROMIUM if CHROMIUM.is_file() else Path(str(shutil.which("chromium")))


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stops the shared stack once the next test lies outside this directory."""
    here = Path(__file__).resolve().parent
    if nextitem is None or here not in Path(str(nextitem.path)).resolve().parents:
        RUNNING.stop()


@pytest.fixture
def desk(tmp_path_factory: pytest.TempPathFactory, chromium: Path) -> Desk:
    """The local stack (`helpdesk start`'s pieces) on free loopback ports. It asks for
    `chromium` first, so that a machine without it skips before starting anything."""
    if RUNNING.desk is None:
        desk = RUNNING.start(tmp_path_factory.mktemp("stack"))
        status, _ = desk.call("GET", "api/health")
        if status != 200:
            RUNNING.stop()
            pytest.skip(f"the portal function does not answer on the local stack ({status})")
    assert RUNNING.desk is not None
    return RUNNING.desk


KB_ARTICLES = [
    (
        "Resetting your password",
        "Open the sign-in page and choose *Forgot password*. The reset "
        "mail arrives within five minutes; check the spam folder.",
    ),
    ("Changing the VAT number on invoices", "Admins can change the VAT number under Billing."),
    ("Exporting reports to CSV", "Every report has an Export button at its top right."),
]


@pytest.fixture
def seeded(desk: Desk) -> dict[str, Any]:
    """What `_seed` put in the running desk (seeded once per stack)."""
    if RUNNING.seeded is None:
        RUNNING.seeded = _seed(desk)
    return RUNNING.seeded


def _seed(desk: Desk) -> dict[str, Any]:
    """Agents, a team, categories, a macro, a canned response and knowledge-base articles.

    The first admin is written straight into the configuration (as `helpdesk` seeding does);
    everything else goes through the admin API with that admin's dev-login token.
    """
    from helpdesk.data.config import ConfigRepository
    from helpdesk.domain.models import Agent, Role

    table = desk.stack.session.resource("dynamodb").Table(desk.stack.stack.tables["Table"])
    ConfigRepository(table).put(
        "agents",
        "ada",
        Agent(id="ada", email="ada@example.com", name="Ada Admin", role=Role.ADMIN),
    )
    admin = desk.agent_token("ada")

    def put(kind: str, item: dict[str, Any]) -> None:
        desk.ok("PUT", f"api/admin/{kind}/{item['id']}", item, token=admin)

    put("teams", {"id": "billing", "name": "Billing"})
    put("teams", {"id": "support", "name": "Support"})
    put(
        "agents",
        {"id": "bob", "email": "bob@example.com", "name": "Bob Agent", "teams": ["billing"]},
    )
    put("categories", {"id": "invoices", "name": "Invoices", "team": "billing"})
    put("categories", {"id": "access", "name": "Access", "team": "support"})
    put(
        "macros",
        {
            "id": "escalate-billing",
            "name": "Escalate to billing",
            "changes": {"team": "billing", "priority": "high", "add_tags": ["escalated"]},
            "reply": "Ticket {{ticket.number}} is now with billing.",
            "reply_kind": "note",
        },
    )
    put(
        "canned-responses",
        {
            "id": "fixed",
            "title": "Fixed, thanks",
            "text": "Hello {{requester.name}}, ticket #{{ticket.number}} is resolved.",
        },
    )
    put(
        "sla-policies",
        {
            "id": "standard",
            "name": "Standard",
            "business_hours": False,
            "targets": {"first_response": 60, "resolution": 480},
        },
    )
    return {
        "admin_token": admin,
        "agent_id": "bob",
        "agent_token": desk.agent_token("bob"),
        "macro_name": "Escalate to billing",
        "macro_tag": "escalated",
        "canned_title": "Fixed, thanks",
        "kb": _seed_knowledge_base(desk, table),
    }


def _seed_knowledge_base(desk: Desk, table: Any) -> list[str]:
    """Writes the articles through the knowledge base's service; returns the titles that the
    portal's suggestions route then finds (empty while that route is not wired to it)."""
    from datetime import UTC, datetime

    from helpdesk.kb.models import ArticleDraft
    from helpdesk.kb.repository import ArticleRepository
    from helpdesk.kb.service import KnowledgeBase

    kb = KnowledgeBase(ArticleRepository(table))
    now = datetime.now(UTC)
    for title, body in KB_ARTICLES:
        kb.create(ArticleDraft(title=title, body=body), now=now, author="ada")
    found = desk.ok("GET", "api/portal/suggestions?q=reset%20my%20password")
    titles = [article["title"] for article in found.get("articles", [])]
    return titles if KB_ARTICLES[0][0] in titles else []


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Any]:
    """Chromium, headless, with a fresh profile that Playwright creates and removes."""
    from playwright.sync_api import expect, sync_playwright

    # The local stack runs every function in this process: under load a page waits longer.
    expect.set_options(timeout=15000)

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def sink() -> Iterator[Sink]:
    server = Sink().start()
    yield server
    server.stop()


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    """Opens pages in their own browser contexts (one person each); closes them afterwards."""
    contexts: list[Any] = []

    def _open(url: str, *, width: int = 1366, height: int = 900) -> tuple[Any, Watch]:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        watch = Watch(page)
        page.goto(url)
        return page, watch

    yield _open
    for context in contexts:
        context.close()
