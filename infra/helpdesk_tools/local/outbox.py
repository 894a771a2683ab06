"""The outbox: mail the desk sent through SES, read back from the local endpoint.

moto keeps what SES v1 and v2 sent in its SES backend. The running stack reads that backend
in its own process; another process reads moto's `/moto-api/data.json` page, or asks the
stack's gateway (`/local/outbox.json`). Each message is listed with its headers, parsed from
the raw MIME.
"""

from __future__ import annotations

import html
import json
import urllib.request
from dataclasses import asdict, dataclass, field
from email import message_from_string
from email.policy import default
from typing import Any


@dataclass
class SentMail:
    """One message SES accepted for sending."""

    id: str
    source: str
    destinations: list[str]
    subject: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    text: str = ""

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_outbox(endpoint: str) -> list[SentMail]:
    """Every mail sent through SES on the local `endpoint`, oldest first."""
    url = f"{endpoint}/moto-api/data.json"  # a loopback endpoint
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
        data = json.loads(response.read())
    ses = data.get("ses", {})
    mails = [_from_raw(item) for item in ses.get("RawMessage", [])]
    mails += [_from_simple(item) for item in ses.get("Message", [])]
    return mails


def read_backend(account: str, region: str) -> list[SentMail]:
    """Every mail sent through SES, from moto's SES backend in this process, oldest first."""
    from moto.ses.models import ses_backends

    mails = []
    for message in list(ses_backends[account][region].sent_messages):
        if hasattr(message, "raw_data"):
            mails.append(_from_raw(vars(message)))
        elif hasattr(message, "body"):
            mails.append(_from_simple(vars(message)))
    return mails


def read_gateway(gateway: str) -> list[SentMail]:
    """Every mail sent through SES, as the running stack's gateway lists it."""
    url = f"{gateway}/local/outbox.json"  # the loopback gateway
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310
        return [
            SentMail(**{**item, "headers": [tuple(pair) for pair in item["headers"]]})
            for item in json.loads(response.read())
        ]


def _from_raw(item: dict[str, Any]) -> SentMail:
    message = message_from_string(item.get("raw_data", ""), policy=default)
    body = message.get_body(preferencelist=("plain", "html"))  # type: ignore[attr-defined]
    text = body.get_content() if body is not None else ""
    return SentMail(
        id=item["id"],
        source=str(item.get("source") or message.get("From", "")),
        # NOTE: moto lists a raw message's recipients twice (from the call and the headers).
        destinations=list(dict.fromkeys(item.get("destinations") or [])),
        subject=str(message.get("Subject", "")),
        headers=[(name, str(value)) for name, value in message.items()],
        text=text,
    )


def _from_simple(item: dict[str, Any]) -> SentMail:
    destinations = item.get("destinations") or {}
    flat = [address for values in destinations.values() for address in values]
    return SentMail(
        id=item["id"],
        source=str(item.get("source", "")),
        destinations=flat,
        subject=str(item.get("subject", "")),
        text=str(item.get("body", "")),
    )


def render_page(mails: list[SentMail]) -> str:
    """The outbox as a small HTML page, newest first; every value escaped."""
    rows = []
    for mail in reversed(mails):
        headers = "\n".join(f"{name}: {value}" for name, value in mail.headers)
        rows.append(
            "<article><h2>{subject}</h2><p>to {to}</p><pre>{headers}</pre>"
            "<details><summary>text</summary><pre>{text}</pre></details></article>".format(
                subject=html.escape(mail.subject or "(no subject)"),
                to=html.escape(", ".join(mail.destinations)),
                headers=html.escape(headers),
                text=html.escape(mail.text),
            )
        )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Outbox</title>"
        "<style>body{font:14px sans-serif;max-width:60em;margin:auto}"
        "article{border-bottom:1px solid #ccc}pre{white-space:pre-wrap}</style>"
        f"<h1>Outbox: {len(mails)} sent</h1>" + "".join(rows) + "</html>"
    )
