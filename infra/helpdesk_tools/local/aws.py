"""moto in server mode on loopback, with each API call applied atomically.

Real DynamoDB applies an UpdateItem, a conditional write or a transaction atomically; moto's
threaded server does not serialise concurrent requests, so two `ADD` updates can read the same
value. Serialising whole requests makes the local endpoint linearisable, as AWS is per item.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

logger = logging.getLogger(__name__)


class _Serialised:
    """WSGI middleware: one request at a time reaches the moto backends."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            # Drain the response inside the lock, so no backend state is read after it.
            return list(self._app(environ, start_response))


class LocalAws:
    """A moto server on 127.0.0.1; `endpoint` is what AWS_ENDPOINT_URL should be set to."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        app = _Serialised(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalAws:
        self._thread.start()
        logger.debug("local aws started", extra={"endpoint": self.endpoint})
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
