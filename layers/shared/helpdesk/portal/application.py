"""The Chalice application: blueprints, security headers and REST proxy event routing.

API Gateway sends every request to the function through `/{proxy+}`, so the event's
`resourcePath` is the proxy resource, not one of Chalice's routes. `PortalApp` finds the route
from the request path first, as a REST API with one resource per route would have done.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from chalice import Chalice, Response

from helpdesk.exceptions import ConfigurationError, NotFoundError
from helpdesk.portal.context import portal
from helpdesk.portal.errors import to_http
from helpdesk.portal.router import error_response
from helpdesk.portal.static import SECURITY_HEADERS, StaticFiles, content_security_policy

# The blueprints of the portal, in registration order. The knowledge base (issue 8) and the
# reports (issue 9) add their module here; each module exposes `router` (a Router, attached
# to each app) or a plain Chalice `blueprint`.
BLUEPRINTS: list[str] = [
    "helpdesk.portal.blueprints.pages",
    "helpdesk.portal.blueprints.meta",
    "helpdesk.portal.blueprints.auth",
    "helpdesk.portal.blueprints.agent",
    "helpdesk.portal.blueprints.admin",
    "helpdesk.portal.blueprints.customer",
    "helpdesk.portal.blueprints.webhooks",
    "helpdesk.portal.blueprints.reports",
    "helpdesk.portal.blueprints.kb",
    "helpdesk.portal.blueprints.kb_page",
]

_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class PortalApp(Chalice):
    """Chalice, plus routing of REST proxy events by their path."""

    _patterns: list[tuple[int, re.Pattern[str], str]]

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        request_context = event.get("requestContext") or {}
        resource = request_context.get("resourcePath")
        if resource is not None and resource not in self.routes:
            matched = self.match(str(event.get("path") or "/"))
            if matched is None:
                return _not_found().to_dict(self.api.binary_types)
            route, params = matched
            event = {
                **event,
                "requestContext": {**request_context, "resourcePath": route},
                "pathParameters": params,
            }
        return super().__call__(event, context)

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """The route pattern and path parameters for a concrete request path, or None."""
        if not hasattr(self, "_patterns") or len(self._patterns) != len(self.routes):
            self._patterns = sorted(
                ((len(_PARAM.findall(route)), _compile(route), route) for route in self.routes),
                key=lambda entry: entry[0],
            )
        if len(path) > 1:
            path = path.rstrip("/")
        for _count, pattern, route in self._patterns:
            found = pattern.fullmatch(path)
            if found:
                return route, {name: unquote(value) for name, value in found.groupdict().items()}
        return None


def _compile(route: str) -> re.Pattern[str]:
    pattern = ""
    position = 0
    for found in _PARAM.finditer(route):
        pattern += re.escape(route[position : found.start()])
        pattern += f"(?P<{found.group(1)}>[^/]+)"
        position = found.end()
    return re.compile(pattern + re.escape(route[position:]))


def _not_found() -> Response:
    response = error_response(to_http(NotFoundError("no such route")))
    response.headers.update(SECURITY_HEADERS)
    return response


def security_headers(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Add the security headers to every response, errors included."""
    response = get_response(event)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Content-Security-Policy"] = content_security_policy(_upload_origin())
    return response


def _upload_origin() -> str | None:
    try:
        return portal().upload_origin
    except ConfigurationError:
        return None


def create_app(static_root: Path, *, name: str = "helpdesk-portal") -> PortalApp:
    """The portal app with every blueprint registered and the web UI served from
    `static_root`."""
    from helpdesk.portal.blueprints import pages

    pages.static_files = StaticFiles(static_root)
    app = PortalApp(app_name=name)
    for module_name in BLUEPRINTS:
        module = importlib.import_module(module_name)
        router = getattr(module, "router", None)
        if router is not None:
            router.attach(app)
        else:
            app.register_blueprint(module.blueprint)
    app.register_middleware(security_headers, "http")
    return app
