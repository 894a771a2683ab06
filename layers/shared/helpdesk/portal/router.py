"""Routes with their contract: authentication, body and query models, and JSON errors.

Every API view is registered through `Router.route`, which records a `RouteSpec` (read by the
OpenAPI generator) and wraps the view so that it receives parsed, validated input and its
errors leave through the one mapping in helpdesk.portal.errors.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from chalice import Blueprint, Response
from pydantic import BaseModel

from helpdesk.exceptions import PayloadTooLargeError, ValidationError
from helpdesk.portal.auth import (
    AgentPrincipal,
    CustomerPrincipal,
    authenticate_agent,
    authenticate_customer,
)
from helpdesk.portal.context import Portal, portal
from helpdesk.portal.errors import HttpError, to_http

logger = logging.getLogger(__name__)

Auth = Literal["public", "agent", "admin", "customer", "webhook"]
INTEGER_PARAMS = frozenset({"number", "index"})


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    auth: Auth
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    produces: str = "application/json"
    documented_body: type[BaseModel] | None = None


REGISTRY: dict[tuple[str, str], RouteSpec] = {}


@dataclass
class Call:
    """What a view receives: the request, the time, the caller and the parsed input."""

    request: Any
    now: datetime
    app: Any = None
    agent: AgentPrincipal | None = None
    customer: CustomerPrincipal | None = None
    body: Any = None
    query: Any = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def portal(self) -> Portal:
        """The process's portal context, built on first use (static pages never need it)."""
        return portal()

    @property
    def headers(self) -> Any:
        return self.request.headers

    @property
    def raw_body(self) -> bytes:
        return self.request.raw_body or b""

    def require_agent(self) -> AgentPrincipal:
        assert self.agent is not None
        return self.agent

    def require_customer(self) -> CustomerPrincipal:
        assert self.customer is not None
        return self.customer


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response that is never cached by the browser or a proxy."""
    return Response(
        body=json.dumps(body, default=str, separators=(",", ":")),
        status_code=status,
        headers={
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            **(headers or {}),
        },
    )


def error_response(error: HttpError) -> Response:
    return json_response(error.body(), error.status, error.headers)


class Router:
    """Registers API views with their contract, and attaches them to Chalice apps.

    Views are kept here rather than registered on the module's blueprint at import time: a
    Chalice blueprint can be registered on one app only (it consumes its route options), and
    the function module may be loaded more than once in a process (tests, the local stack).
    `attach` builds a fresh blueprint for each app.
    """

    def __init__(self, blueprint: Blueprint | None = None, tag: str = "api") -> None:
        self.blueprint = blueprint
        self._tag = tag
        self._views: list[tuple[RouteSpec, Callable[..., Any]]] = []

    def route(
        self,
        path: str,
        method: str,
        *,
        auth: Auth,
        summary: str,
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        status: int = 200,
        produces: str = "application/json",
        documented_body: type[BaseModel] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register `view(call, **path_params)` at `method path`; returns the view unchanged.

        Raises ValueError when the same method and path are registered twice.
        """
        spec = RouteSpec(
            path,
            method,
            auth,
            summary,
            self._tag,
            body,
            query,
            response,
            status,
            produces,
            documented_body,
        )

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            if (path, method) in REGISTRY:
                raise ValueError(f"{method} {path} is registered twice")
            REGISTRY[(path, method)] = spec
            self._views.append((spec, view))
            return view

        return decorator

    def attach(self, app: Any) -> None:
        """Register every view of this router on `app`, through a blueprint of its own."""
        blueprint = Blueprint(f"{self._tag}-{id(app)}")
        for spec, view in self._views:
            blueprint.route(spec.path, methods=[spec.method], content_types=_ANY_CONTENT)(
                _endpoint(blueprint, app, spec, view)
            )
        app.register_blueprint(blueprint)


def _endpoint(
    blueprint: Blueprint, app: Any, spec: RouteSpec, view: Callable[..., Any]
) -> Callable[..., Response]:
    @functools.wraps(view)
    def endpoint(**params: str) -> Response:
        return dispatch(blueprint.current_request, spec, view, params, app=app)

    return endpoint


# NOTE: bodies are parsed here (JSON only), so Chalice need not refuse other content types;
# a form post to a JSON route then fails as a 400 naming the body rather than as a 415.
_ANY_CONTENT = ["application/json", "text/plain", "application/x-www-form-urlencoded", "*/*"]


def dispatch(
    request: Any,
    spec: RouteSpec,
    view: Callable[..., Any],
    params: dict[str, str],
    *,
    app: Any = None,
) -> Response:
    """Authenticate, parse, call the view and shape its answer; every error becomes JSON."""
    try:
        call = Call(request=request, now=datetime.now(UTC), app=app)
        if request.raw_body:
            _check_size(request, call.portal.settings.max_body_bytes)
        _authenticate(call, spec)
        call.params = _path_params(params)
        if spec.query is not None:
            call.query = spec.query.model_validate(dict(request.query_params or {}))
        if spec.body is not None:
            call.body = spec.body.model_validate(_json_body(call.raw_body))
        result = view(call, **call.params)
    except Exception as error:  # every failure leaves as the mapped JSON error
        return error_response(to_http(error))
    return _shape(result, spec.status)


def _check_size(request: Any, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"the body is over {limit} bytes")
    if len(request.raw_body or b"") > limit:
        raise PayloadTooLargeError(f"the body is over {limit} bytes")


def _authenticate(call: Call, spec: RouteSpec) -> None:
    if spec.auth in ("agent", "admin"):
        call.agent = authenticate_agent(
            call.portal, call.headers, now=call.now, admin=spec.auth == "admin"
        )
    elif spec.auth == "customer":
        call.customer = authenticate_customer(call.portal, call.headers, now=call.now)


def _path_params(params: dict[str, str]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for name, value in params.items():
        if name in INTEGER_PARAMS:
            if not value.isdigit() or len(value) > 12:
                raise ValidationError(f"{name} must be a positive whole number", field=name)
            parsed[name] = int(value)
        else:
            parsed[name] = value
    return parsed


def _json_body(raw: bytes) -> Any:
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationError("the body is not valid JSON", field="body") from error


def _shape(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if result is None:
        return Response(body="", status_code=204 if status == 200 else status)
    if isinstance(result, BaseModel):
        return json_response(result.model_dump(mode="json", by_alias=True), status)
    return json_response(result, status)
