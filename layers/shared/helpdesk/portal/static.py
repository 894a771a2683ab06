"""Static files of the web UI: safe names only, the right content type, strict headers."""

from __future__ import annotations

import re
from pathlib import Path

from chalice import Response

from helpdesk.exceptions import NotFoundError

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
_TEXT = ("text/", "application/json", "image/svg+xml")


def content_security_policy(upload_origin: str | None = None) -> str:
    """The policy for every response; `upload_origin` (the attachment bucket's, where the
    browser posts pre-signed uploads) joins connect-src and form-action when given."""
    extra = f" {upload_origin}" if upload_origin else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'{extra}; font-src 'self'; object-src 'none'; base-uri 'none'; "
        f"form-action 'self'{extra}; frame-ancestors 'none'"
    )


CONTENT_SECURITY_POLICY = content_security_policy()

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


class StaticFiles:
    """Files under one root, addressed by at most two safe name segments."""

    def __init__(self, root: Path) -> None:
        self._root = root.resolve()

    def response(self, *segments: str) -> Response:
        """The file as a response; raises NotFoundError for any unsafe or missing name."""
        path = self.resolve(*segments)
        content_type = CONTENT_TYPES[path.suffix.lower()]
        data = path.read_bytes()
        body: str | bytes = data.decode("utf-8") if content_type.startswith(_TEXT) else data
        cache = "no-cache" if path.suffix == ".html" else "public, max-age=300"
        return Response(
            body=body,
            status_code=200,
            headers={"Content-Type": content_type, "Cache-Control": cache},
        )

    def resolve(self, *segments: str) -> Path:
        """The file's path; raises NotFoundError when a segment is unsafe, the type unknown
        or the file absent."""
        if not segments or not all(SAFE_NAME.match(part) for part in segments):
            raise NotFoundError("no such file")
        path = self._root.joinpath(*segments).resolve()
        if not path.is_relative_to(self._root) or path.suffix.lower() not in CONTENT_TYPES:
            raise NotFoundError("no such file")
        if not path.is_file():
            raise NotFoundError("no such file")
        return path
