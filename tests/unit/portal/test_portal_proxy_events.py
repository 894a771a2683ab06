"""The function answers API Gateway REST proxy events as the template wires them."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from tests.conftest import load_event


def _event(path: str, method: str = "GET", **extra: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event("portal_rest_proxy"))
    event["path"] = path
    event["httpMethod"] = method
    event["requestContext"]["httpMethod"] = method
    event["pathParameters"] = {"proxy": path.lstrip("/")}
    event.update(extra)
    return event


def test_a_proxy_event_reaches_its_route(portal_function: Any) -> None:
    response = portal_function.app(_event("/api/health"), None)

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {"ok": True}


def test_an_unknown_path_is_a_json_404_with_security_headers(portal_function: Any) -> None:
    response = portal_function.app(_event("/api/nothing/here"), None)

    assert response["statusCode"] == 404
    assert json.loads(response["body"])["error"]["code"] == "not_found"
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"


def test_a_wrong_method_is_405(portal_function: Any) -> None:
    response = portal_function.app(_event("/api/health", "DELETE"), None)

    assert response["statusCode"] == 405


def test_path_parameters_come_from_the_request_path(portal_function: Any, offline: None) -> None:
    response = portal_function.app(_event("/api/agent/tickets/12"), None)

    assert response["statusCode"] == 401
    assert json.loads(response["body"])["error"]["code"] == "unauthorized"


def test_a_non_numeric_ticket_number_names_the_field(portal_function: Any, offline: None) -> None:
    event = _event("/api/agent/tickets/12abc")
    event["headers"]["Authorization"] = "Bearer x.y.z"

    response = portal_function.app(event, None)

    assert response["statusCode"] in (400, 401)
    body = json.loads(response["body"])
    assert set(body["error"]) == {"code", "message", "field"}


def test_the_portal_page_is_served_with_a_strict_policy(portal_function: Any) -> None:
    response = portal_function.app(_event("/"), None)

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/html")
    policy = response["headers"]["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response["headers"]["X-Frame-Options"] == "DENY"


def test_the_agent_page_and_its_script_are_served(portal_function: Any) -> None:
    page = portal_function.app(_event("/agent"), None)
    script = portal_function.app(_event("/static/agent/app.js"), None)

    assert page["statusCode"] == 200 and "<html" in page["body"].lower()
    assert script["statusCode"] == 200
    assert script["headers"]["Content-Type"].startswith("text/javascript")


def test_traversal_out_of_the_static_folder_is_404(portal_function: Any) -> None:
    attempts = [
        "/static/%2e%2e/app.py",
        "/static/..%2fapp.py",
        "/static/agent/..%2f..%2fapp.py",
        "/static/.hidden",
        "/static/agent/app.py",
        "/static/%2fetc%2fpasswd",
    ]

    statuses = [portal_function.app(_event(path), None)["statusCode"] for path in attempts]

    assert statuses == [404] * len(attempts)


def test_a_base64_body_from_the_rest_api_is_decoded(portal_function: Any, offline: None) -> None:
    raw = json.dumps({"email": "not an address"}).encode()
    event = _event(
        "/api/auth/link",
        "POST",
        body=base64.b64encode(raw).decode(),
        isBase64Encoded=True,
    )
    event["headers"]["Content-Type"] = "application/json"

    response = portal_function.app(event, None)

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["field"] == "email"


def test_a_body_that_is_not_json_is_a_400_naming_the_body(
    portal_function: Any, offline: None
) -> None:
    event = _event("/api/auth/link", "POST", body="{not json")
    event["headers"]["Content-Type"] = "application/json"

    response = portal_function.app(event, None)

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["field"] == "body"


def test_the_function_can_be_loaded_twice_in_one_process(portal_function: Any) -> None:
    from tests.integration.portal.support import load_portal_function

    second = load_portal_function()

    assert second.app.routes.keys() == portal_function.app.routes.keys()
    response = second.app(_event("/api/health"), None)
    assert response["statusCode"] == 200


def test_query_strings_of_a_proxy_event_reach_the_route(portal_function: Any) -> None:
    event = _event(
        "/api/portal/suggestions",
        queryStringParameters={"q": "ab", "bogus": "1"},
        multiValueQueryStringParameters={"q": ["ab"], "bogus": ["1"]},
    )

    response = portal_function.app(event, None)

    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["field"] == "bogus"


def test_the_policy_lets_uploads_go_to_the_attachment_bucket_only(
    portal_function: Any, offline: None
) -> None:
    response = portal_function.app(_event("/"), None)

    policy = response["headers"]["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["connect-src"] == "'self' http://127.0.0.1:9"
    assert directives["form-action"] == "'self' http://127.0.0.1:9"
    assert directives["script-src"] == "'self'"
