"""Walking a parsed MIME tree: the text and HTML bodies, and every attachment, leniently."""

from __future__ import annotations

import binascii
import io
import logging
import mimetypes
import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email.generator import BytesGenerator
from email.message import Message
from email.policy import compat32
from typing import Any

from helpdesk.mail.charsets import codec_for, decode_bytes
from helpdesk.mail.headers import decode_rfc2231, decode_text, unfold
from helpdesk.mail.model import ParsedAttachment

logger = logging.getLogger(__name__)

MAX_DEPTH = 30
MAX_PARTS = 1000

_UUENCODE = re.compile(
    r"^begin(?:-base64)? [0-7]{3,4} (?P<name>[^\r\n]+)\r?\n(?P<body>.*?)^end[ \t]*$\r?\n?",
    re.MULTILINE | re.DOTALL,
)
_NOT_READABLE = {"text/calendar", "text/x-vcard", "text/vcard", "text/rtf", "text/enriched"}
_TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}


@dataclass
class Body:
    """What the walk collects: plain and HTML bodies in order, attachments, defects."""

    texts: list[str] = field(default_factory=list)
    htmls: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    charsets: list[str] = field(default_factory=list)
    parts: int = 0
    part_types: list[tuple[str, Message]] = field(default_factory=list)


@dataclass
class _PartHeaders:
    """A part's MIME headers, parsed once: each policy parse of a header costs real time."""

    content_type: str
    charset: str | None
    disposition: str | None
    filename: str | None


def collect_body(message: Message, hints: list[str]) -> Body:
    """Walk `message` and return its bodies and attachments; never raises."""
    body = Body(charsets=hints)
    _walk(message, body, depth=0, in_alternative=False)
    return body


def _walk(part: Message, body: Body, depth: int, in_alternative: bool) -> None:
    body.parts += 1
    if depth > MAX_DEPTH or body.parts > MAX_PARTS:
        body.defects.append("mime_too_deep_or_too_many_parts")
        return
    _note_defects(part, body)
    headers = _part_headers(part, body)
    body.part_types.append((headers.content_type, part))

    if headers.content_type in ("message/rfc822", "message/global"):
        _attach_message(part, headers, body)
        return
    if part.is_multipart():
        children = part.get_payload()
        if isinstance(children, list):
            alternative = headers.content_type == "multipart/alternative"
            for child in children:
                if isinstance(child, Message):
                    _walk(child, body, depth + 1, in_alternative or alternative)
            for stray in _parts_after_the_end(part):
                body.defects.append("part_after_closing_boundary")
                _walk(stray, body, depth + 1, in_alternative)
            return
    try:
        _leaf(part, headers, body, in_alternative)
    except Exception:  # one unreadable part must not cost the rest of the mail
        logger.debug("part unreadable", exc_info=True)
        body.defects.append(f"part_unreadable:{headers.content_type}")


def _part_headers(part: Message, body: Body) -> _PartHeaders:
    content_type = part.get_default_type()
    params: dict[str, str] = {}
    try:
        header: Any = part.get("content-type")
        if header is not None:
            declared = str(getattr(header, "content_type", "")).lower()
            if declared.count("/") == 1:
                content_type = declared
            params = {str(k).lower(): str(v) for k, v in getattr(header, "params", {}).items()}
    except Exception:  # a Content-Type the policy cannot parse: read the part as plain text
        logger.debug("content type unreadable", exc_info=True)
        body.defects.append("content_type_unreadable")
        content_type = "text/plain"

    disposition: str | None = None
    disposition_params: dict[str, str] = {}
    try:
        header = part.get("content-disposition")
        if header is not None:
            disposition = str(getattr(header, "content_disposition", "") or "").lower() or None
            disposition_params = {
                str(k).lower(): str(v) for k, v in getattr(header, "params", {}).items()
            }
    except Exception:  # unreadable disposition: decide by file name alone
        logger.debug("content disposition unreadable", exc_info=True)

    name = disposition_params.get("filename") or params.get("name")
    return _PartHeaders(
        content_type=content_type,
        charset=params.get("charset"),
        disposition=disposition,
        filename=_filename(part, name),
    )


def _parts_after_the_end(part: Message) -> list[Message]:
    """Parts that a broken mail put after its closing boundary (a nested part that reused the
    outer boundary closes the outer one early); they are read rather than lost."""
    epilogue = part.epilogue
    if not epilogue or "--" not in epilogue:
        return []
    boundary = part.get_boundary()
    if not boundary:
        return []
    marker = f"--{boundary}"
    if marker not in epilogue:
        return []
    strays: list[Message] = []
    for chunk in epilogue.split(marker)[1:]:
        if chunk.startswith("--"):
            continue
        data = chunk.lstrip("\r\n").encode("utf-8", "surrogateescape")
        if data.strip():
            strays.append(message_from_bytes(data, policy=part.policy))
    return strays[:20]


def _leaf(part: Message, headers: _PartHeaders, body: Body, in_alternative: bool) -> None:
    payload = _payload_bytes(part, body)
    content_type, filename = headers.content_type, headers.filename
    disposition = headers.disposition
    main_type = content_type.split("/", 1)[0]
    is_body = disposition != "attachment" and filename is None

    is_tnef = content_type in _TNEF_TYPES or (filename or "").lower() == "winmail.dat"
    if is_tnef and _unpack_tnef(payload, body):
        return
    if (is_body and content_type in ("text/plain", "text/html")) or main_type == "multipart":
        text = _decode_text_part(headers.charset, payload, body)
        if content_type == "text/html":
            body.htmls.append(text)
        else:
            body.texts.append(_extract_uuencoded(text, body))
        return
    readable = main_type == "text" and content_type not in _NOT_READABLE
    if is_body and readable and not in_alternative:
        body.texts.append(_decode_text_part(headers.charset, payload, body))
        return
    content_id = _content_id(part)
    # Without a disposition, a part is shown in place when it has no name or is referenced
    # by its Content-ID (an image in multipart/related).
    implicit = disposition is None and (filename is None or content_id is not None)
    body.attachments.append(
        ParsedAttachment(
            filename=filename or _default_name(content_type, len(body.attachments) + 1),
            content_type=content_type,
            size=len(payload),
            inline=disposition == "inline" or implicit,
            content_id=content_id,
            payload=payload,
        )
    )


def _attach_message(part: Message, headers: _PartHeaders, body: Body) -> None:
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        inner_message: Message | None = inner[0]
    else:
        inner_message = None
    payload = b""
    subject = ""
    if inner_message is not None:
        try:
            payload = _serialise(inner_message)
        except Exception:  # a broken inner message cannot be re-serialised exactly
            logger.debug("inner message not serialisable", exc_info=True)
            body.defects.append("inner_message_unserialisable")
            payload = str(inner_message.get_payload()).encode("utf-8", "surrogateescape")
        raw_subject = _raw_header(inner_message, "subject")
        subject = decode_text(raw_subject, body.charsets) if raw_subject else ""
        body.parts += _count_parts(inner_message)
    elif isinstance(inner, (str, bytes)):
        payload = inner.encode("utf-8", "surrogateescape") if isinstance(inner, str) else inner
    name = headers.filename or f"{_safe_name(subject.strip()) or 'forwarded message'}.eml"
    body.attachments.append(
        ParsedAttachment(
            filename=name,
            content_type="message/rfc822",
            size=len(payload),
            inline=False,
            content_id=_content_id(part),
            payload=payload,
        )
    )


class _AsReceivedGenerator(BytesGenerator):
    """Writes headers exactly as they were read: no re-folding, no re-encoding."""

    def _write_headers(self, msg: Message) -> None:
        for name, value in msg.raw_items():
            self.write(f"{name}: {value}")
            self.write("\n")
        self.write("\n")


def _serialise(message: Message) -> bytes:
    """The message as bytes, headers as received; compat32 keeps the body as it was."""
    buffer = io.BytesIO()
    try:
        _AsReceivedGenerator(buffer, mangle_from_=False, policy=compat32).flatten(message)
    except Exception:  # an odd header the fast path cannot write: let the library fold it
        buffer = io.BytesIO()
        BytesGenerator(buffer, mangle_from_=False, policy=compat32).flatten(message)
    return buffer.getvalue()


def _count_parts(message: Message) -> int:
    count = 0
    for _ in message.walk():
        count += 1
        if count > MAX_PARTS:
            break
    return count


def _raw_header(message: Message, name: str) -> str | None:
    for key, value in message.raw_items():
        if key.lower() == name:
            return str(value)
    return None


def _payload_bytes(part: Message, body: Body) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a transfer encoding that cannot be undone: keep the raw text
        logger.debug("payload not decodable", exc_info=True)
        body.defects.append("payload_undecodable")
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw: Any = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _decode_text_part(declared: str | None, payload: bytes, body: Body) -> str:
    text, used = decode_bytes(payload, declared, hints=body.charsets)
    if declared and used not in (codec_for(declared), "ascii"):
        body.defects.append(f"charset_fallback:{declared}->{used}")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def _extract_uuencoded(text: str, body: Body) -> str:
    if "begin " not in text:
        return text

    def take(match: re.Match[str]) -> str:
        data = _uudecode(match["body"])
        if data is None:
            return match[0]
        name = _safe_name(match["name"].strip()) or "attachment.bin"
        body.attachments.append(
            ParsedAttachment(
                filename=name,
                content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
                size=len(data),
                payload=data,
            )
        )
        return ""

    return _UUENCODE.sub(take, text)


def _uudecode(block: str) -> bytes | None:
    out = bytearray()
    for line in block.splitlines():
        if not line.strip() or line.strip() == "`":
            continue
        try:
            out += binascii.a2b_uu(line.encode("latin-1"))
        except (binascii.Error, UnicodeEncodeError):
            # Some encoders leave junk in the padding bits; decode whole groups, then trim.
            try:
                length = (ord(line[0]) - 32) & 63
                groups = (length + 2) // 3
                padded = chr(32 + groups * 3) + line[1 : 1 + groups * 4].ljust(groups * 4, "`")
                out += binascii.a2b_uu(padded.encode("latin-1"))[:length]
            except (binascii.Error, IndexError, UnicodeEncodeError):
                return None
    return bytes(out)


def _unpack_tnef(payload: bytes, body: Body) -> bool:
    from helpdesk.mail.tnef import unpack_tnef

    unpacked = unpack_tnef(payload)
    if unpacked is None:
        body.defects.append("tnef_unreadable")
        return False
    text, html, attachments = unpacked
    if text:
        body.texts.append(text)
    if html:
        body.htmls.append(html)
    body.attachments.extend(attachments)
    return True


def _filename(part: Message, name: str | None) -> str | None:
    """The part's file name: parsed parameters, then the raw ones, then Content-Location."""
    if not name:
        name = _raw_param(part, "content-disposition", "filename") or _raw_param(
            part, "content-type", "name"
        )
    if not name:
        location = _raw_header(part, "content-location")
        if location:
            name = location.strip().rsplit("/", 1)[-1]
    if not name:
        return None
    if "'" in name and name.count("'") >= 2 and "%" in name:
        name = decode_rfc2231(name)
    if "=?" in name or not name.isascii():
        name = decode_text(name)
    return _safe_name(name) or None


def _raw_param(part: Message, header: str, param: str) -> str | None:
    raw = _raw_header(part, header) if isinstance(part, Message) else None
    if not raw:
        return None
    match = re.search(
        rf"(?:^|;)\s*{param}\*?\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^;]*)", raw, re.IGNORECASE
    )
    if match is None:
        return None
    value = match[1].strip()
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        value = value[1:-1]
    return value or None


def _safe_name(name: str) -> str:
    name = re.sub(r"[\x00-\x1f\x7f]", "", name.replace("\r", "").replace("\n", ""))
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip().strip(".")
    return name[:255]


def _content_id(part: Message) -> str | None:
    value = _raw_header(part, "content-id")
    if not value:
        return None
    return unfold(value).strip().strip("<>").strip() or None


def _default_name(content_type: str, number: int) -> str:
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return f"attachment-{number}{extension}"


def _note_defects(part: Message, body: Body) -> None:
    for defect in getattr(part, "defects", []):
        body.defects.append(type(defect).__name__)
