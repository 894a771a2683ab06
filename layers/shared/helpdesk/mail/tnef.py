"""Outlook's TNEF (winmail.dat): its body and attachments, through the tnefparse package."""

from __future__ import annotations

import logging
import mimetypes
import re

from helpdesk.mail.model import ParsedAttachment

logger = logging.getLogger(__name__)

DEFAULT_NAME = "unknown.dat"


def unpack_tnef(data: bytes) -> tuple[str, str, list[ParsedAttachment]] | None:
    """The (plain text, HTML, attachments) inside a TNEF stream, or None if it is unreadable.

    Trailing junk after the stream is tolerated; an attachment without a name is called
    "unknown.dat". An RTF-only body is turned into plain text.
    """
    try:
        from tnefparse import TNEF

        tnef = TNEF(data)
    except Exception:  # tnefparse raises many kinds of error on damaged streams
        logger.debug("tnef stream unreadable", exc_info=True)
        return None

    text = _as_text(getattr(tnef, "body", None))
    html = _as_text(getattr(tnef, "htmlbody", None))
    try:
        rtf = tnef.rtfbody  # decompressed by compressed-rtf when it is installed
    except Exception:  # a damaged compressed body: no body rather than no mail
        logger.debug("tnef rtf body unreadable", exc_info=True)
        rtf = None
    if isinstance(rtf, bytes) and rtf[:4] != b"{\\rt":
        rtf = None  # still compressed: no decompressor available
    if not text and not html and rtf:
        text = rtf_to_text(rtf if isinstance(rtf, bytes) else str(rtf).encode("latin-1", "replace"))

    attachments: list[ParsedAttachment] = []
    for attachment in getattr(tnef, "attachments", []):
        try:
            name = attachment.long_filename() or attachment.name or ""
        except Exception:  # a malformed name property: fall back to the default name
            name = ""
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        name = str(name).replace("\x00", "").strip() or DEFAULT_NAME
        payload = attachment.data if isinstance(attachment.data, bytes) else b""
        attachments.append(
            ParsedAttachment(
                filename=name,
                content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
                size=len(payload),
                payload=payload,
            )
        )
    return text, html, attachments


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        for codec in ("utf-8", "cp1252"):
            try:
                return value.decode(codec).replace("\x00", "").strip()
            except UnicodeDecodeError:
                continue
        return value.decode("latin-1").replace("\x00", "").strip()
    return str(value).replace("\x00", "").strip()


_RTF_TOKEN = re.compile(
    rb"\\([a-zA-Z]+)(-?\d+)? ?|\\'([0-9a-fA-F]{2})|\\([^a-zA-Z])|([{}])|[\r\n]+|([^\\{}\r\n]+)"
)
_RTF_SKIP_DESTINATIONS = {
    b"fonttbl", b"colortbl", b"stylesheet", b"info", b"pict", b"header", b"footer",
    b"object", b"themedata", b"datastore", b"latentstyles", b"listtable", b"rsidtbl",
    b"generator", b"xmlnstbl", b"mmathPr", b"listoverridetable", b"filetbl",
}  # fmt: skip


def rtf_to_text(rtf: bytes) -> str:
    """Plain text from RTF: control words dropped, paragraphs kept, \\'xx read as cp1252,
    \\uN as Unicode, and the RTF-only parts of Outlook's encapsulated HTML (\\htmlrtf) left out.
    """
    out: list[str] = []
    stack: list[bool] = []
    skipping = False
    html_rtf = False
    pending_star = False
    skip_fallback = 0
    for match in _RTF_TOKEN.finditer(rtf):
        word, arg, hex_byte, symbol, brace, literal = match.groups()
        if brace == b"{":
            stack.append(skipping)
            continue
        if brace == b"}":
            skipping = stack.pop() if stack else False
            continue
        if word is not None:
            if word in _RTF_SKIP_DESTINATIONS or pending_star:
                skipping = True
            pending_star = False
            if word == b"htmlrtf":
                html_rtf = arg != b"0"
            elif skipping or html_rtf:
                pass
            elif word == b"u" and arg is not None:
                out.append(chr(int(arg) % 0x10000))
                skip_fallback = 1
            elif word in (b"par", b"line", b"row", b"sect", b"page"):
                out.append("\n")
            elif word == b"tab":
                out.append("\t")
            continue
        if symbol == b"*":
            pending_star = True
            continue
        if skipping or html_rtf:
            continue
        if skip_fallback and (hex_byte is not None or literal is not None):
            skip_fallback = 0
            if hex_byte is not None:
                continue
            literal = literal[1:]
        if hex_byte is not None:
            out.append(bytes([int(hex_byte, 16)]).decode("cp1252", errors="replace"))
        elif symbol is not None and symbol in (b"\\", b"{", b"}"):
            out.append(symbol.decode())
        elif symbol == b"~":
            out.append(" ")
        elif literal:
            out.append(literal.decode("cp1252", errors="replace"))
    text = "".join(out).replace("\x00", "")
    return re.sub(r"\n{3,}", "\n\n", text).strip()
