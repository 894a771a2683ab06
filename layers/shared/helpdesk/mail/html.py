"""HTML from mail: readable text for agents and the AI, and sanitised markup for display."""

from __future__ import annotations

import logging
import re

import nh3

logger = logging.getLogger(__name__)

# Ways mail hides text from its reader (and so, often, aims it at a machine): not displayed,
# invisible, transparent, zero-sized, Outlook's mso-hide, or pushed far off the page.
_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|opacity\s*:\s*0(?:\.0*)?\s*(?:;|$)"
    r"|font-size\s*:\s*0(?:px|pt|em|rem|%)?\s*(?:;|$)|mso-hide\s*:\s*all"
    r"|(?<![-\w])color\s*:\s*transparent|max-height\s*:\s*0(?:px)?\s*(?:;|$)"
    r"|(?:left|top|text-indent)\s*:\s*-\d{4,}(?:px|em|pt)",
    re.IGNORECASE,
)
# Tags whose content is removed along with them, on top of nh3's script and style.
_DROPPED_WITH_CONTENT = {"script", "style", "title", "head", "template", "noscript", "object"}
# nh3's defaults, plus text direction and language, which carry meaning and cannot hide anything.
_ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()} | {
    "*": {"dir", "lang", "title"}
}
_URL_SCHEMES = {"http", "https", "mailto", "cid", "tel"}


def html_to_text(markup: str) -> str:
    """The readable text of an HTML document: no hidden elements, no comments, no scripts.

    Returns "" for empty or unparseable markup; never raises.
    """
    if not markup.strip():
        return ""
    try:
        from inscriptis import get_text
        from inscriptis.css_profiles import CSS_PROFILES
        from inscriptis.model.config import ParserConfig

        config = ParserConfig(css=CSS_PROFILES["strict"].copy(), display_images=False)
        text = get_text(_without_hidden(markup), config)
    except Exception:  # any parser failure degrades to a crude strip
        logger.debug("inscriptis failed, stripping tags instead", exc_info=True)
        text = re.sub(r"<[^>]*>", " ", _without_hidden(markup))
    return _tidy(text)


def sanitise_html(markup: str) -> str | None:
    """Markup safe to show in a browser: no scripts, handlers, javascript: URLs or styling.

    Elements hidden with inline styles are removed first, so that nothing hidden from the
    customer is shown to the agent. Returns None when nothing is left.
    """
    if not markup.strip():
        return None
    try:
        cleaned = nh3.clean(
            _without_hidden(markup),
            clean_content_tags=_DROPPED_WITH_CONTENT,
            url_schemes=_URL_SCHEMES,
            attributes=_ATTRIBUTES,
            strip_comments=True,
        )
    except Exception:  # nh3 rejects very odd input; then nothing is shown
        logger.debug("nh3 failed on the html part", exc_info=True)
        return None
    return cleaned if cleaned.strip() else None


def _without_hidden(markup: str) -> str:
    """The markup without comments and without elements styled or marked as hidden."""
    markup = re.sub(r"<!--.*?(?:-->|$)", "", markup, flags=re.DOTALL)
    if "hidden" not in markup.lower() and "none" not in markup.lower() and "0" not in markup:
        return markup
    try:
        import lxml.html
    except ImportError:  # pragma: no cover - lxml ships with inscriptis
        return markup
    try:
        root = lxml.html.document_fromstring(markup)
    except Exception:  # unparseable markup is left to the next stage
        return markup
    changed = False
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        style = element.get("style") or ""
        if element.get("hidden") is not None or _HIDDEN_STYLE.search(style):
            parent = element.getparent()
            if parent is not None:
                element.drop_tree()
                changed = True
    if not changed:
        return markup
    return lxml.html.tostring(root, encoding="unicode")


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")
