"""What the browser tests share: the desk over HTTP, a loopback sink, a page watcher."""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]

CHROMIUM = Path(os.environ.get("HELPDESK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
LOGIN_LINK = re.compile(r"https?://\S+?[?&]login=[A-Za-z0-9._~%-]+")

# What the stack's portal function runs with, on top of what template.yaml gives it.
PORTAL_ENVIRONMENT = {
    "HELPDESK_DEV_LOGIN": "true",
    "HELPDESK_SECURE_COOKIES": "false",
}


@dataclass
class Desk:
    """The running local stack, reached the way a browser reaches it: over HTTP."""

    stack: Any
    gateway: str
    base: str  # the API's root, with the stage: pages and routes are relative to it
    tokens: dict[str, str] = field(default_factory=dict)
    links_taken: set[str] = field(default_factory=set)

    @property
    def portal_url(self) -> str:
        return self.base

    @property
    def agent_url(self) -> str:
        return f"{self.base}agent"

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        """One JSON request to the API; returns the status and the parsed body."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
        return status, (json.loads(raw) if raw else None)

    def ok(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """Like `call`, but a status of 400 or more fails the test with the API's answer."""
        status, answer = self.call(method, path, body, token)
        assert status < 400, f"{method} {path} answered {status}: {answer}"
        return answer

    def agent_token(self, agent_id: str) -> str:
        """A token for `agent_id` from the dev login (cached per agent)."""
        if agent_id not in self.tokens:
            answer = self.ok("POST", "api/auth/dev-login", {"agent_id": agent_id})
            self.tokens[agent_id] = answer["token"]
        return self.tokens[agent_id]

    def customer_token(self, email: str) -> str:
        """A customer session for `email`, signed in the way the portal does it: ask for a
        link, read it from the outbox, redeem its token."""
        self.ok("POST", "api/auth/link", {"email": email})
        token = self.login_link(email).rsplit("login=", 1)[1]
        return str(self.ok("POST", "api/auth/session", {"token": token})["token"])

    def login_link(self, email: str, timeout: float = 30.0) -> str:
        """The newest sign-in link mailed to `email` that no earlier call returned, read from
        the local outbox."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for mail in reversed(self.stack.outbox()):
                if not any(email in address.lower() for address in mail.destinations):
                    continue
                found = LOGIN_LINK.search(mail.text)
                if found and found.group(0) not in self.links_taken:
                    self.links_taken.add(found.group(0))
                    return found.group(0)
            time.sleep(0.25)
        raise AssertionError(f"no sign-in link for {email} reached the outbox")


class Sink:
    """Records the method and path of each request; answers 204 to all of them."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        hits = self.hits

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _record(self) -> None:
                hits.append(f"{self.command} {self.path}")
                self.send_response(204)
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()

            do_GET = do_POST = do_PUT = do_OPTIONS = do_HEAD = _record

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Sink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class Watch:
    """Everything a page did that a test may want to forbid: errors, dialogs, console."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.console: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Saves a screenshot under artifacts/screenshots/; returns its path. The workspace
    scrolls inside its panes, so it is shot as the viewport shows it (`full_page=False`)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def sign_in_agent(page: Any, agent_id: str) -> str:
    """Signs in on the workspace's dev login; returns the page title the brand gave it."""
    page.get_by_label("Agent id").fill(agent_id)
    title = str(page.title())  # the brand is applied before the sign-in form shows
    page.get_by_role("button", name="Sign in", exact=True).click()
    queue_settled(page)
    return title


def queue_settled(page: Any) -> None:
    """Waits until the workspace's queue has loaded what its filters ask for."""
    from playwright.sync_api import expect

    expect(page.get_by_role("list", name="Tickets")).to_have_attribute("aria-busy", "false")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _forget_process_caches() -> None:
    """Clears every module-level cache of the helpdesk packages: settings, clients and services
    built for one local stack aim at its endpoint and its resource names, which a later stack
    in the same process does not share."""
    for name, module in list(sys.modules.items()):
        if not name.startswith(("helpdesk.", "helpdesk_tools.")) or module is None:
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and hasattr(value, "cache_info"):
                value.cache_clear()


class RunningDesk:
    """The one local stack the browser tests share, started by the first test that needs it
    and stopped after the last test of this directory (not at the end of the session: other
    suites start stacks of their own in this process afterwards, and two at once would share
    the process's cached clients and settings)."""

    def __init__(self) -> None:
        self.desk: Desk | None = None
        self.seeded: dict[str, Any] | None = None
        self.fixtures: dict[str, Any] = {}
        self._previous: dict[str, str | None] = {}

    def start(self, state_dir: Path) -> Desk:
        from helpdesk_tools.local.stack import LocalSettings, LocalStack

        settings = LocalSettings(
            http_port=_free_port(),
            smtp_port=_free_port(),
            prefix=f"b{uuid.uuid4().hex[:8]}",
            sla_interval=3600.0,
            state_dir=state_dir,
        )
        stack = LocalStack(settings)
        # What the process had before the stack set its own: restored on stop.
        self._previous = {
            name: os.environ.get(name) for name in [*PORTAL_ENVIRONMENT, "HELPDESK_PUBLIC_URL"]
        }
        info = stack.start()
        extra = {**PORTAL_ENVIRONMENT, "HELPDESK_PUBLIC_URL": f"{info.gateway}/{info.stage}"}
        os.environ.update(extra)
        _forget_process_caches()
        self.desk = Desk(stack=stack, gateway=info.gateway, base=f"{info.gateway}/{info.stage}/")
        return self.desk

    def stop(self) -> None:
        if self.desk is None:
            return
        self.desk.stack.stop()
        for name, value in self._previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        _forget_process_caches()
        self.desk, self.seeded, self.fixtures = None, None, {}


RUNNING = RunningDesk()
