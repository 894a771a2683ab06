"""Reading articles to import: a folder of .md/.html files with optional front matter, or a CSV.

Front matter is a block of `key: value` lines between two `---` lines at the top of a file
(`id`, `title`, `tags` as `a, b` or `[a, b]`, `visibility`, `locale`). Without a title, the
first Markdown heading or HTML <h1>/<title> is used, then the file name.

CSV columns: `id,title,body` and optionally `tags` (comma or semicolon separated),
`visibility`, `locale`, `format` (markdown or html).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError as PydanticValidationError

from helpdesk.exceptions import ValidationError
from helpdesk.kb.models import ARTICLE_ID, ArticleDraft, BodyFormat

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_HTML_TITLE = re.compile(r"<(h1|title)[^>]*>(.*?)</\1\s*>", re.I | re.S)
_SUFFIXES = {
    ".md": BodyFormat.MARKDOWN,
    ".markdown": BodyFormat.MARKDOWN,
    ".html": BodyFormat.HTML,
    ".htm": BodyFormat.HTML,
}

csv.field_size_limit(10 * 1024 * 1024)


def read_folder(folder: Path) -> Iterator[tuple[str, ArticleDraft]]:
    """(id, draft) for each .md/.html file in `folder` (not recursive), by file name.

    Raises ValidationError naming the file when one cannot be read as an article.
    """
    for path in sorted(folder.iterdir()):
        body_format = _SUFFIXES.get(path.suffix.lower())
        if body_format is None or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        yield parse_file(path.stem, text, body_format)


def parse_file(stem: str, text: str, body_format: BodyFormat) -> tuple[str, ArticleDraft]:
    """One file's article: front matter first, then the body; returns (id, draft)."""
    meta: dict[str, str] = {}
    match = _FRONT_MATTER.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip():
                meta[key.strip().lower()] = value.strip().strip("\"'")
        text = text[match.end() :]
    title = meta.get("title") or _title_of(text, body_format) or stem.replace("-", " ")
    if body_format == BodyFormat.MARKDOWN and not meta.get("title"):
        # The heading that gave the title is not repeated as the body's first line.
        text = re.sub(r"\A\s*#\s+[^\n]*\n?", "", text, count=1)
    article_id = meta.get("id") or slug(stem)
    return _draft(
        article_id,
        source=stem,
        title=title,
        body=text.strip(),
        body_format=meta.get("format") or body_format.value,
        tags=meta.get("tags", ""),
        visibility=meta.get("visibility") or "public",
        locale=meta.get("locale") or "en",
    )


def read_csv(text: str) -> Iterator[tuple[str, ArticleDraft]]:
    """(id, draft) for each row of a CSV with at least `id,title,body`.

    Raises ValidationError for missing columns, or naming the row that breaks a rule.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = {name.strip().lower() for name in reader.fieldnames or []}
    missing = {"id", "title", "body"} - columns
    if missing:
        raise ValidationError(f"the CSV lacks columns: {', '.join(sorted(missing))}", field="csv")
    for number, row in enumerate(reader, start=2):
        row = {(key or "").strip().lower(): (value or "") for key, value in row.items()}
        body = row["body"]
        yield _draft(
            slug(row["id"]),
            source=f"line {number}",
            title=row["title"],
            body=body,
            body_format=row.get("format") or ("html" if _looks_html(body) else "markdown"),
            tags=row.get("tags", ""),
            visibility=row.get("visibility") or "public",
            locale=row.get("locale") or "en",
        )


def slug(value: str) -> str:
    """An article id from any text: lower case, a-z 0-9 - _, at most 64 characters."""
    value = re.sub(r"[^a-z0-9_-]+", "-", value.strip().lower()).strip("-_")
    return value[:64].rstrip("-_")


def _draft(article_id: str, *, source: str, tags: str, **fields: str) -> tuple[str, ArticleDraft]:
    if not ARTICLE_ID.match(article_id):
        raise ValidationError(f"{source}: no usable article id", field="id")
    tag_list = [tag for tag in re.split(r"[,;]", tags.strip().strip("[]")) if tag.strip()]
    try:
        draft = ArticleDraft(**fields, tags=[tag.strip().strip("\"'") for tag in tag_list])  # type: ignore[arg-type]
    except PydanticValidationError as error:
        first = error.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        raise ValidationError(f"{source}: {name}: {first['msg']}", field=name) from error
    return article_id, draft


def _title_of(text: str, body_format: BodyFormat) -> str | None:
    if body_format == BodyFormat.MARKDOWN:
        heading = re.search(r"^\s*#\s+(.+)$", text, re.M)
        return heading.group(1).strip() if heading else None
    found = _HTML_TITLE.search(text)
    return re.sub(r"<[^>]+>", "", found.group(2)).strip() if found else None


def _looks_html(body: str) -> bool:
    return bool(re.search(r"<(p|div|br|ul|ol|li|a|h[1-6]|table|strong|em)\b", body, re.I))
