"""Article text: sanitising, plain text, links, passages and the tokens keyword search counts."""

from __future__ import annotations

import html as html_lib
import re

import nh3

from helpdesk.kb.models import BodyFormat

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "div", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "td": {"colspan"}}
URL_SCHEMES = {"http", "https", "mailto"}
PASSAGE_WORDS = 70

_BLOCK_END = re.compile(r"</(p|div|li|h[1-6]|tr|blockquote|pre|dt|dd|table)\s*>|<br\s*/?>", re.I)
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.I)
_BARE_URL = re.compile(r"\bhttps?://[^\s<>()\"'\]\[]+[^\s<>()\"'.,;:!?\]\[]")
_APOSTROPHES = "'\u2019"
_WORD = re.compile(r"[^\W_]+(?:[" + _APOSTROPHES + r"][^\W_]+)?", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n{2,}|\n(?=\s*[-*•\d]+[.)]?\s)")

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    hi hello please thanks thank dear regards get got im i'm ive i've id i'd""".split()  # noqa: SIM905
)


def sanitise(body: str, body_format: BodyFormat) -> str:
    """The body safe to store and show: HTML cleaned by nh3 (no script, style, event handler or
    unsafe URL); Markdown has any raw HTML in it cleaned the same way."""
    if body_format == BodyFormat.MARKDOWN and "<" not in body:
        return body
    return nh3.clean(
        body,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def plain_text(body: str, body_format: BodyFormat) -> str:
    """The body as plain text: tags removed, Markdown marks removed, entities decoded."""
    if body_format == BodyFormat.HTML or "<" in body:
        body = _BLOCK_END.sub("\n", body)
        body = nh3.clean(body, tags=set(), attributes={})
    body = html_lib.unescape(body)
    if body_format == BodyFormat.MARKDOWN:
        body = _MD_LINK.sub(r"\1", body)
        body = re.sub(r"^\s{0,3}(#{1,6}|>)\s*", "", body, flags=re.M)
        body = re.sub(r"(\*\*|__|`)", "", body)
    lines = [" ".join(line.split()) for line in body.replace("\r", "").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def links(body: str) -> list[str]:
    """Every http(s) link in a body (Markdown links, HTML hrefs, bare URLs), in order, once."""
    found = [m.group(2) for m in _MD_LINK.finditer(body)] + _HREF.findall(body)
    found += _BARE_URL.findall(body)
    ordered: list[str] = []
    for url in found:
        url = html_lib.unescape(url.strip())
        if url.lower().startswith(("http://", "https://")) and url not in ordered:
            ordered.append(url)
    return ordered


def render_markdown(body: str) -> str:
    """A small, safe Markdown to HTML rendering (headings, lists, paragraphs, emphasis, links),
    sanitised by nh3 afterwards; enough for help-centre articles."""
    blocks: list[str] = []
    for raw in re.split(r"\n\s*\n", body.replace("\r", "").strip()):
        lines = raw.split("\n")
        heading = re.match(r"^(#{1,6})\s+(.*)$", lines[0])
        if heading and len(lines) == 1:
            level = len(heading.group(1))
            blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif all(re.match(r"^\s*([-*+]|\d+[.)])\s+", line) for line in lines if line.strip()):
            tag = "ol" if re.match(r"^\s*\d", lines[0]) else "ul"
            items = "".join(
                f"<li>{_inline(re.sub(r'^\s*([-*+]|\d+[.)])\s+', '', line))}</li>"
                for line in lines
                if line.strip()
            )
            blocks.append(f"<{tag}>{items}</{tag}>")
        else:
            blocks.append("<p>" + "<br>".join(_inline(line) for line in lines) + "</p>")
    return sanitise("\n".join(blocks), BodyFormat.HTML)


def _inline(text: str) -> str:
    text = html_lib.escape(html_lib.unescape(text), quote=True)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    link = r"\[([^\]]+)\]\((https?://[^)\s]+|mailto:[^)\s]+)\)"
    return re.sub(link, r'<a href="\2">\1</a>', text)


def body_html(body: str, body_format: BodyFormat) -> str:
    """The body as sanitised HTML for a page."""
    if body_format == BodyFormat.HTML:
        return sanitise(body, BodyFormat.HTML)
    return render_markdown(body)


def sentences(text: str) -> list[str]:
    """The text split into sentences and list items (never empty strings)."""
    return [part.strip() for part in _SENTENCE.split(text) if part and part.strip()]


def passages(text: str, *, words: int = PASSAGE_WORDS) -> list[str]:
    """Consecutive sentences grouped into passages of about `words` words each."""
    result: list[str] = []
    current: list[str] = []
    count = 0
    for sentence in sentences(text):
        size = len(sentence.split())
        if current and count + size > words:
            result.append(" ".join(current))
            current, count = [], 0
        current.append(sentence)
        count += size
    if current:
        result.append(" ".join(current))
    return result


def tokens(text: str) -> list[str]:
    """Lower-case word stems without stop words: what keyword search counts."""
    result = []
    for match in _WORD.finditer(text.lower()):
        word = match.group(0).replace("\u2019", "'")
        if word in STOPWORDS:
            continue
        result.append(stem(word))
    return result


def stem(word: str) -> str:
    """A light suffix stripper (plurals, -ing, -ed, -ly), enough to match simple inflections."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("edly", ""), ("ed", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + keep
            return _undouble(word) if suffix in {"ing", "ed"} else word
    if word.endswith("ly") and len(word) > 5:
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _undouble(word: str) -> str:
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        return word[:-1]
    if len(word) >= 6 and word.endswith("ell"):  # cancelled, travelling (British spelling)
        return word[:-1]
    return word


def excerpt(text: str, *, limit: int = 240) -> str:
    """The first `limit` characters of a text, cut at a word, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
