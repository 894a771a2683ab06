"""Fixtures for the browser tests: the local stack in this process, Debian's Chromium through
Playwright, a loopback sink for hostile payloads, and a watcher for anything a page runs."""

from __future__ import annotations

import os
import shutil
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser.support import CHROMIUM, CHROMIUM_ARGS, PORTAL_ENVIRONMENT, Desk, Sink, Watch


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.is_file() and not shutil.which("chromium"):
        pytest.skip(f"Debian's chromium is absent at {CHROMIUM} (infra/bootstrap.sh --browser)")
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    return CHROMIUM if CHROMIUM.is_file() else Path(str(shutil.which("chromium")))


@pytest.fixture(scope="session")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """The local stack (`helpdesk start`'s pieces) on free loopback ports, for the session."""
    from helpdesk_tools.local.stack import LocalSettings, LocalStack

    port = _free_port()
    previous = {name: os.environ.get(name) for name in PORTAL_ENVIRONMENT}
    settings = LocalSettings(
        http_port=port,
        smtp_port=_free_port(),
        prefix=f"b{uuid.uuid4().hex[:8]}",
        sla_interval=3600.0,
        state_dir=tmp_path_factory.mktemp("stack"),
    )
    stack = LocalStack(settings)
    info = stack.start()
    os.environ.update(PORTAL_ENVIRONMENT)
    os.environ["HELPDESK_PUBLIC_URL"] = f"{info.gateway}/{info.stage}"
    previous.setdefault("HELPDESK_PUBLIC_URL", None)
    desk = Desk(stack=stack, gateway=info.gateway, base=f"{info.gateway}/{info.stage}/")
    try:
        status, _ = desk.call("GET", "api/health")
        if status != 200:
            pytest.skip(f"the portal function does not answer on the local stack ({status})")
        yield desk
    finally:
        stack.stop()
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _forget_cached_clients()


def _forget_cached_clients() -> None:
    # Clients cached while the stack ran aim at its endpoint, which is gone now.
    from helpdesk.data import clients

    clients.session.cache_clear()
    clients.client.cache_clear()
    clients.table.cache_clear()


@pytest.fixture(scope="session")
def browser(chromium: Path) -> Iterator[Any]:
    """Chromium, headless, with a fresh profile that Playwright creates and removes."""
    from playwright.sync_api import sync_playwright

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
