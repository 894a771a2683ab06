"""HTTP in: requests become API Gateway REST (payload 1.0) proxy events, as Chalice reads them."""

from __future__ import annotations

import base64
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from helpdesk_tools.local.gateway import Gateway
from helpdesk_tools.local.outbox import SentMail

# The keys of a REST API proxy integration event, as API Gateway documents payload 1.0.
REST_EVENT_KEYS = {
    "resource", "path", "httpMethod", "headers", "multiValueHeaders", "queryStringParameters",
    "multiValueQueryStringParameters", "pathParameters", "stageVariables", "requestContext",
    "body", "isBase64Encoded",
}  # fmt: skip
REST_CONTEXT_KEYS = {
    "resourceId", "resourcePath", "httpMethod", "extendedRequestId", "requestTime", "path",
    "accountId", "protocol", "stage", "domainPrefix", "requestTimeEpoch", "requestId",
    "identity", "domainName", "apiId",
}  # fmt: skip


class _Portal:
    """Stands in for the portal function: answers each event with what it was given, as a
    Lambda proxy response, and keeps the events."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        body = base64.b64decode(event["body"]) if event["isBase64Encoded"] else b""
        if event["path"] == "/blob":
            return {
                "statusCode": 201,
                "headers": {"Content-Type": "application/octet-stream"},
                "multiValueHeaders": {"X-Seen": ["one", "two"]},
                "body": base64.b64encode(bytes(reversed(body))).decode(),
                "isBase64Encoded": True,
            }
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"path": event["path"], "body": body.decode()}),
            "isBase64Encoded": False,
        }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, _Portal]]:
    portal = _Portal()
    sent = [
        SentMail(
            id="m-1",
            source="support@example.com",
            destinations=["ana@example.org"],
            subject="Re: parcel [#7]",
            headers=[("In-Reply-To", "<parcel-1@example.org>")],
        )
    ]
    server = Gateway(
        host="127.0.0.1", port=_free_port(), invoke=portal, outbox=lambda: sent, prefix="/api"
    )
    server.start()
    yield server, portal
    server.stop()


def _call(
    url: str, method: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_request_becomes_a_rest_proxy_event(gateway: Any) -> None:
    server, portal = gateway

    status, _, body = _call(
        f"{server.url}/api/things/lamp?colour=red&tag=a&tag=b",
        "POST",
        json.dumps({"watts": 40}).encode(),
        {"Content-Type": "application/json", "X-Agent": "a-1"},
    )

    assert status == 200
    assert json.loads(body) == {"path": "/things/lamp", "body": '{"watts": 40}'}
    (event,) = portal.events
    assert set(event) == REST_EVENT_KEYS
    assert set(event["requestContext"]) == REST_CONTEXT_KEYS
    assert event["resource"] == "/{proxy+}"
    assert event["path"] == "/things/lamp"
    assert event["pathParameters"] == {"proxy": "things/lamp"}
    assert event["requestContext"]["path"] == "/api/things/lamp"
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert event["multiValueQueryStringParameters"] == {"colour": ["red"], "tag": ["a", "b"]}
    assert event["queryStringParameters"] == {"colour": "red", "tag": "b"}
    assert event["headers"]["X-Agent"] == "a-1"
    assert event["multiValueHeaders"]["X-Agent"] == ["a-1"]
    assert event["httpMethod"] == event["requestContext"]["httpMethod"] == "POST"
    assert event["requestContext"]["stage"] == "api"
    assert "version" not in event  # not an HTTP API (payload 2.0) event


def test_binary_bodies_travel_base64_encoded_both_ways(gateway: Any) -> None:
    server, portal = gateway
    blob = bytes(range(256))

    status, headers, body = _call(
        f"{server.url}/api/blob",
        "PUT",
        blob,
        {"Content-Type": "application/octet-stream", "Accept": "application/octet-stream"},
    )

    assert status == 201
    assert headers["Content-Type"] == "application/octet-stream"
    assert body == bytes(reversed(blob))
    assert headers.get_all("X-Seen") == ["one", "two"]
    assert portal.events[0]["isBase64Encoded"] is True
    assert base64.b64decode(portal.events[0]["body"]) == blob


def test_root_redirects_to_the_stage(gateway: Any) -> None:
    server, portal = gateway

    request = urllib.request.Request(f"{server.url}/", method="GET")
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(request, timeout=10)

    assert redirect.value.code == 302
    assert redirect.value.headers["Location"] == "/api/"
    assert portal.events == []


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_a_failing_function_is_a_502_without_details(tmp_path: Path) -> None:
    def broken(event: dict[str, Any]) -> Any:
        raise RuntimeError("secret stack detail")

    server = Gateway(host="127.0.0.1", port=_free_port(), invoke=broken, outbox=list)
    server.start()
    try:
        status, _, body = _call(f"{server.url}/anything", "GET")
    finally:
        server.stop()

    assert status == 502
    assert b"secret" not in body


def test_paths_outside_the_stage_are_not_proxied(gateway: Any) -> None:
    server, portal = gateway

    status, _, _ = _call(f"{server.url}/elsewhere", "GET")

    assert status == 404
    assert portal.events == []


def test_outbox_is_served_by_the_gateway_with_headers(gateway: Any) -> None:
    server, portal = gateway

    status, _, page = _call(f"{server.url}/local/outbox", "GET")
    _, _, listing = _call(f"{server.url}/local/outbox.json", "GET")

    assert status == 200
    assert "In-Reply-To: &lt;parcel-1@example.org&gt;" in page.decode()
    assert json.loads(listing)[0]["subject"] == "Re: parcel [#7]"
    assert portal.events == []


@pytest.mark.corpus
def test_events_are_not_the_http_api_shape_of_the_corpus_samples(
    gateway: Any, corpus: Path
) -> None:
    server, portal = gateway
    http_api = json.loads((corpus / "C/powertools/apiGatewayProxyV2Event.json").read_text())

    _call(f"{server.url}/api/nowhere", "GET")

    assert http_api["version"] == "2.0"
    assert "rawPath" in http_api and "rawPath" not in portal.events[0]
    assert "httpMethod" in portal.events[0] and "httpMethod" not in http_api
