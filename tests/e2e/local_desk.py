"""A running local desk (`helpdesk start`) in a child process, on free loopback ports.

Shared by the end-to-end tests (the browser tests may use it too).

The desk is reached only through its sockets: SMTP for mail in, HTTP for the API and the
outbox page. Its log lines are collected, so a test can read what a user would see.
"""

from __future__ import annotations

import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

READY_TIMEOUT = 180.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Desk:
    """A local desk running in a child process."""

    process: subprocess.Popen[str]
    state_dir: Path
    smtp_port: int
    http_port: int
    lines: list[str] = field(default_factory=list)
    token: str | None = None

    @property
    def base(self) -> str:
        """The gateway's root; the API and pages sit under the stage prefix below it."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def prefix(self) -> str:
        return str(self.info["prefix"])

    @property
    def info(self) -> dict[str, Any]:
        return json.loads((self.state_dir / "stack.json").read_text(encoding="utf-8"))

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request to the gateway (`path` below the stage, or /local/...); returns
        status, headers and body."""
        data = json.dumps(body).encode() if body is not None else None
        url = self.base + (path if path.startswith("/local/") else self.prefix + path)
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """A JSON API call as the local admin agent; asserts a 2xx answer."""
        if self.token is None:
            status, _, payload = self.request("POST", "/api/auth/dev-login", {"agent_id": "a-1"})
            assert status == 200, payload
            self.token = json.loads(payload)["token"]
        status, _, payload = self.request(
            method, path, body, headers={"Authorization": f"Bearer {self.token}"}
        )
        assert 200 <= status < 300, (status, payload[:500])
        return json.loads(payload) if payload else None

    def send(self, message: EmailMessage, to: str = "support@example.com") -> None:
        """Deliver `message` over SMTP, as a customer's mail server would."""
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as client:
            client.send_message(message, to_addrs=[to])

    def outbox(self) -> list[dict[str, Any]]:
        status, _, payload = self.request("GET", "/local/outbox.json")
        assert status == 200
        return json.loads(payload)

    def log_since(self, mark: int) -> list[str]:
        return self.lines[mark:]


def wait_for[T](probe: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    """Poll `probe` until it returns something truthy; fails naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.25)


def _child_environment() -> dict[str, str]:
    # The child builds its own endpoint; nothing from this process's AWS set-up leaks in.
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "HELPDESK_", "POWERTOOLS_"))
    }


def start_desk(tmp: Path, *extra: str) -> Desk:
    """`helpdesk start` in a child process on free ports; returns once it prints `ready.`"""
    smtp_port, http_port = free_port(), free_port()
    command = [
        sys.executable, "-m", "helpdesk_tools.cli", "start",
        "--smtp-port", str(smtp_port), "--http-port", str(http_port),
        "--state-dir", str(tmp), "--quiet-seed", *extra,
    ]  # fmt: skip
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_child_environment(),
    )
    desk = Desk(process=process, state_dir=tmp, smtp_port=smtp_port, http_port=http_port)
    ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            desk.lines.append(line.rstrip("\n"))
            if line.startswith("ready."):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + READY_TIMEOUT
    while not ready.wait(0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_desk(desk)
            pytest.fail("the local desk did not start:\n" + "\n".join(desk.lines[-40:]))
    return desk


def stop_desk(desk: Desk) -> int | None:
    """Ctrl-C the desk, as a user would; returns its exit code."""
    if desk.process.poll() is None:
        desk.process.send_signal(signal.SIGINT)
        try:
            desk.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            desk.process.kill()
            desk.process.wait(timeout=10)
    return desk.process.returncode
