"""HTTP in: stands in for API Gateway's REST API. Every request becomes a proxy event for the
portal function, whose proxy response becomes the HTTP response.

The local stack serves under the stage prefix (/api), as API Gateway does, so that URLs and
the pages' relative links resolve exactly as in AWS; with `prefix=""` it serves at the root
instead (docs/api.md's paths), and the events name the stage either way. The gateway itself
serves only /local/outbox (the sent mail) and a redirect from / to the stage.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from helpdesk_tools.local.events import api_gateway_event
from helpdesk_tools.local.outbox import SentMail, render_page
from helpdesk_tools.local.runtime import FunctionMissingError

logger = logging.getLogger(__name__)
_LOG = {"component": "gateway"}

MAX_BODY = 10 * 1024 * 1024  # API Gateway's payload limit


class Gateway:
    """A threading HTTP server on loopback in front of the portal function."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        invoke: Callable[[dict[str, Any]], Any],
        outbox: Callable[[], list[SentMail]],
        stage: str = "api",
        prefix: str = "",
    ) -> None:
        handler = _handler_class(invoke, outbox, stage, prefix.rstrip("/"))
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="gateway", daemon=True
        )
        self.stage = stage
        self.prefix = prefix.rstrip("/")

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        # shutdown() waits for serve_forever() to end, so only a started server is told to.
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()


def _handler_class(
    invoke: Callable[[dict[str, Any]], Any],
    outbox: Callable[[], list[SentMail]],
    stage: str,
    prefix: str,
) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        server_version = "helpdesk-local-gateway"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # one line per request is logged by _proxy instead

        def do_GET(self) -> None:
            self._route()

        do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

        def _route(self) -> None:
            parts = urlsplit(self.path)
            if parts.path in ("/local/outbox", "/local/outbox.json"):
                self._outbox(parts.path.endswith(".json"))
            elif prefix and parts.path == "/":
                self._send(302, [("Location", f"{prefix}/")], b"")
            elif not prefix or parts.path == prefix or parts.path.startswith(prefix + "/"):
                self._proxy(parts.path[len(prefix) :], parts.query)
            else:
                self._json(404, {"message": "Not Found"})

        def _outbox(self, as_json: bool) -> None:
            mails = outbox()
            if as_json:
                self._json(200, [mail.as_dict() for mail in mails])
            else:
                body = render_page(mails).encode()
                self._send(200, [("Content-Type", "text/html; charset=utf-8")], body)

        def _proxy(self, path: str, query: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._json(413, {"message": "Request Too Long"})
                return
            body = self.rfile.read(length) if length else b""
            event = api_gateway_event(
                method=self.command,
                path=path or "/",
                query=parse_qsl(query, keep_blank_values=True),
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                now=datetime.now(UTC),
                stage=stage,
            )
            try:
                response = invoke(event)
            except FunctionMissingError as error:
                logger.warning("portal function missing", extra={**_LOG, "reason": str(error)})
                self._json(502, {"message": "the portal function is not there yet"})
                return
            except Exception:
                logger.exception("portal function failed", extra={**_LOG, "path": path})
                self._json(502, {"message": "Internal server error"})
                return
            status, headers, payload = _from_proxy_response(response)
            logger.info(
                f"{self.command} {path}", extra={**_LOG, "status": status, "bytes": len(payload)}
            )
            self._send(status, headers, payload)

        def _json(self, status: int, value: Any) -> None:
            body = json.dumps(value).encode()
            self._send(status, [("Content-Type", "application/json")], body)

        def _send(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

    return _Handler


def _from_proxy_response(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """A Lambda proxy response as status, headers and body; a malformed one is a 502."""
    if not isinstance(response, dict) or "statusCode" not in response:
        logger.error("malformed lambda proxy response", extra=_LOG)
        return 502, [("Content-Type", "application/json")], b'{"message": "Internal server error"}'
    headers: list[tuple[str, str]] = []
    multi = response.get("multiValueHeaders") or {}
    for name, values in multi.items():
        headers.extend((name, str(value)) for value in values)
    for name, value in (response.get("headers") or {}).items():
        if name not in multi:
            headers.append((name, str(value)))
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        payload = base64.b64decode(body)
    else:
        payload = body.encode() if isinstance(body, str) else bytes(body)
    return int(response["statusCode"]), headers, payload
