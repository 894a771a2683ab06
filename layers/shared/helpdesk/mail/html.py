"""HTML from mail: readable text for agents and the AI, and sanitised markup for display."""

from __future__ import annotations

import logging
import re
from typing import Any

import nh3

logger = logging.getLogger(__name__)

# Ways mail hides text from its reader (and so, often, aims it at a machine) are read from
# inline styles, simple <style> rules and a few attributes; see _Hider.
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
    """The markup without comments, without hidden elements, and without invisible text.

    An element is hidden (and dropped with everything in it) when its inline style or a
    simple <style> rule for its tag, class or id hides it: display none, visibility hidden,
    opacity under 0.1, zero height or width with overflow hidden, a clip or clip-path that
    leaves nothing, scale(0), Outlook's mso-hide, or a large negative offset or indent; or
    when it has the `hidden` attribute. Text is invisible (and dropped, while children that
    restyle themselves stay) when its font size is 1px or less, or its colour is transparent
    or the same as the background it sits on (white when no background is set).
    Unparseable markup comes back as it was, minus comments.
    """
    markup = re.sub(r"<!--.*?(?:-->|$)", "", markup, flags=re.DOTALL)
    try:
        import lxml.html
    except ImportError:  # pragma: no cover - lxml ships with inscriptis
        return markup
    try:
        root = lxml.html.document_fromstring(markup)
    except Exception:  # unparseable markup is left to the next stage
        return markup
    if not _Hider(root).run():
        return markup
    return lxml.html.tostring(root, encoding="unicode")


_WHITE = (255, 255, 255)
_NAMED_COLOURS = {
    "white": _WHITE,
    "snow": (255, 250, 250),
    "ivory": (255, 255, 240),
    "ghostwhite": (248, 248, 255),
    "whitesmoke": (245, 245, 245),
    "floralwhite": (255, 250, 240),
    "seashell": (255, 245, 238),
    "mintcream": (245, 255, 250),
    "azure": (240, 255, 255),
    "aliceblue": (240, 248, 255),
    "honeydew": (240, 255, 240),
    "linen": (250, 240, 230),
    "oldlace": (253, 245, 230),
    "lavenderblush": (255, 240, 245),
    "black": (0, 0, 0),
    "silver": (192, 192, 192),
    "gray": (128, 128, 128),
    "grey": (128, 128, 128),
    "lightgray": (211, 211, 211),
    "lightgrey": (211, 211, 211),
    "gainsboro": (220, 220, 220),
    "red": (255, 0, 0),
    "green": (0, 128, 0),
    "blue": (0, 0, 255),
    "navy": (0, 0, 128),
    "yellow": (255, 255, 0),
    "orange": (255, 165, 0),
    "purple": (128, 0, 128),
    "maroon": (128, 0, 0),
    "teal": (0, 128, 128),
    "olive": (128, 128, 0),
    "lime": (0, 255, 0),
    "aqua": (0, 255, 255),
    "fuchsia": (255, 0, 255),
}
# Colours this close (summed channel difference) to their background cannot be read.
_COLOUR_DISTANCE = 30
_DECLARATION = re.compile(r"([-\w]+)\s*:\s*([^;]*)")
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_SIMPLE_SELECTOR = re.compile(r"([a-z][a-z0-9]*|\*)?((?:[.#][-\w]+)*)", re.IGNORECASE)
_NUMBER = r"(-?\d*\.?\d+)"
_LENGTH = re.compile(_NUMBER + r"\s*(px|pt|em|rem|%|ex|ch|vw|vh|cm|mm|in)?\b", re.IGNORECASE)
_HEX = re.compile(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})\b", re.IGNORECASE)
_RGB = re.compile(r"rgba?\(\s*([^)]*)\)", re.IGNORECASE)
_SCALE = re.compile(r"scale[xyz3d]*\(\s*([^)]*)\)", re.IGNORECASE)
_CLIP_RECT = re.compile(r"rect\(([^)]*)\)", re.IGNORECASE)
_OTHER_MEDIA = re.compile(r"@media[^{]*(?:prefers-color-scheme|print)[^{]*\{", re.IGNORECASE)
# Style rules read from one document; more are ignored (a bound on the work per element).
_MAX_RULES = 2000
# Links keep their own colour (the browser's blue) unless styled.
_OWN_COLOUR_TAGS = {"a"}

Colour = tuple[int, int, int]
Styles = dict[str, str]


class _Hider:
    """One pass over a parsed document, removing what its reader cannot see."""

    def __init__(self, root: object) -> None:
        self.root: Any = root
        self.rules: list[tuple[str | None, frozenset[str], frozenset[str], Styles]] = []
        self.rules_by_key: dict[str, list[int]] = {}
        self.changed = False

    def run(self) -> bool:
        """Remove hidden elements and invisible text; returns whether anything changed."""
        self._read_style_rules()
        # (element, inherited text colour, background under it, inherited font too small)
        stack: list[tuple[Any, Colour | None, Colour | None, bool]] = [
            (self.root, None, _WHITE, False)
        ]
        while stack:
            element, colour, background, tiny = stack.pop()
            if not isinstance(element.tag, str):
                continue
            styles = self._styles(element)
            if element is not self.root and self._hidden(element, styles):
                element.drop_tree()
                self.changed = True
                continue
            colour, background, tiny = self._text_context(element, styles, colour, background, tiny)
            if tiny or _invisible(colour, background):
                self._clear_own_text(element)
            stack.extend((child, colour, background, tiny) for child in reversed(element))
        return self.changed

    def _read_style_rules(self) -> None:
        for style in self.root.iter("style"):
            css = re.sub(r"/\*.*?\*/", "", style.text_content() or "", flags=re.DOTALL)
            for selectors, body in _RULE.findall(_without_other_media(css)):
                declarations = _declarations(body)
                if not declarations:
                    continue
                for selector in selectors.split(","):
                    parsed = _simple_selector(selector.strip())
                    if parsed is not None and len(self.rules) < _MAX_RULES:
                        self._index_rule(len(self.rules), *parsed)
                        self.rules.append((*parsed, declarations))

    def _index_rule(
        self, number: int, tag: str | None, classes: frozenset[str], ids: frozenset[str]
    ) -> None:
        """File the rule under one thing an element must have for it to apply."""
        if ids:
            key = f"#{min(ids)}"
        elif classes:
            key = f".{min(classes)}"
        else:
            key = f"<{tag}"
        self.rules_by_key.setdefault(key, []).append(number)

    def _styles(self, element: Any) -> Styles:
        styles: Styles = {}
        if self.rules:
            tag = str(element.tag).lower()
            classes = frozenset((element.get("class") or "").split())
            ids = frozenset((element.get("id") or "").split())
            keys = [f"<{tag}", "<*", *(f".{c}" for c in classes), *(f"#{i}" for i in ids)]
            # Rules that could apply, in the style sheet's order.
            candidates = sorted({n for key in keys for n in self.rules_by_key.get(key, ())})
            for number in candidates:
                rule_tag, rule_classes, rule_ids, declarations = self.rules[number]
                if rule_tag not in (None, "*", tag):
                    continue
                if rule_classes <= classes and rule_ids <= ids:
                    styles.update(declarations)
        inline = element.get("style")
        if inline:
            styles.update(_declarations(inline))
        return styles

    @staticmethod
    def _hidden(element: Any, styles: Styles) -> bool:
        if element.get("hidden") is not None:
            return True
        return _hidden_by_style(styles)

    @staticmethod
    def _text_context(
        element: Any,
        styles: Styles,
        colour: Colour | None,
        background: Colour | None,
        tiny: bool,
    ) -> tuple[Colour | None, Colour | None, bool]:
        tag = str(element.tag).lower()
        if tag in _OWN_COLOUR_TAGS:
            colour = None
        declared = styles.get("color") or (element.get("color") if tag == "font" else None)
        if declared:
            colour = _parse_colour(declared)
        fill = styles.get("background-color") or styles.get("background") or element.get("bgcolor")
        image = styles.get("background-image") or element.get("background")
        if image and image.strip().lower() != "none":
            # Text over a picture: what it looks like cannot be told, so it counts as shown.
            fill = fill or image
        if fill:
            parsed = _parse_colour(fill)
            if parsed == _TRANSPARENT:
                pass  # the background underneath shows through
            elif parsed is not None:
                background = parsed
            elif "transparent" not in fill.lower():
                # An image or a colour we cannot read: assume the text stands out from it.
                background = None
        size = styles.get("font-size")
        if size:
            tiny = _tiny_font(size)
        if tag == "font" and element.get("size") is not None:
            tiny = tiny or element.get("size", "").strip() in ("0", "-7")
        return colour, background, tiny

    def _clear_own_text(self, element: Any) -> None:
        """Drop the element's own text and the text between its children, keeping the children."""
        if element.text and element.text.strip():
            element.text = None
            self.changed = True
        for child in element:
            if child.tail and child.tail.strip():
                child.tail = None
                self.changed = True


def _declarations(style: str) -> Styles:
    found: Styles = {}
    important: set[str] = set()
    for name, value in _DECLARATION.findall(style):
        name = name.lower()
        value = value.strip()
        is_important = "!important" in value.lower()
        value = re.sub(r"(?i)\s*!\s*important", "", value).strip()
        if name in important and not is_important:
            continue
        found[name] = value
        if is_important:
            important.add(name)
    return found


def _simple_selector(selector: str) -> tuple[str | None, frozenset[str], frozenset[str]] | None:
    """(tag, classes, ids) of a single compound selector like "div.a#b", or None."""
    match = _SIMPLE_SELECTOR.fullmatch(selector)
    if match is None or not selector:
        return None
    tag = match[1].lower() if match[1] else None
    parts = re.findall(r"([.#])([-\w]+)", match[2] or "")
    classes = frozenset(name for kind, name in parts if kind == ".")
    ids = frozenset(name for kind, name in parts if kind == "#")
    if tag in (None, "*") and not classes and not ids and selector != "*":
        return None
    return tag, classes, ids


def _without_other_media(css: str) -> str:
    """The style sheet without @media blocks for print or a dark colour scheme: what they
    set is not what the reader sees on a normal screen."""
    out: list[str] = []
    position = 0
    for match in _OTHER_MEDIA.finditer(css):
        if match.start() < position:
            continue
        out.append(css[position : match.start()])
        depth = 1
        index = match.end()
        while index < len(css) and depth:
            depth += {"{": 1, "}": -1}.get(css[index], 0)
            index += 1
        position = index
    out.append(css[position:])
    return "".join(out)


_HIDING_PROPERTIES = frozenset(
    {
        "display",
        "mso-hide",
        "visibility",
        "opacity",
        "max-height",
        "max-width",
        "overflow",
        "overflow-y",
        "clip",
        "clip-path",
        "transform",
        "left",
        "top",
        "right",
        "text-indent",
        "margin-left",
        "margin-top",
    }
)


def _hidden_by_style(styles: Styles) -> bool:
    if not styles or styles.keys().isdisjoint(_HIDING_PROPERTIES):
        return False
    value = styles.get
    if value("display", "").lower() == "none" or value("mso-hide", "").lower() == "all":
        return True
    if value("visibility", "").lower() in ("hidden", "collapse"):
        return True
    opacity = _first_number(value("opacity", ""))
    if opacity is not None and (opacity < 0.1 if "%" not in value("opacity", "") else opacity < 10):
        return True
    if _zero_length(value("max-height", "")) or _zero_length(value("max-width", "")):
        return True
    overflow = value("overflow", "").lower() + value("overflow-y", "").lower()
    clipped = "hidden" in overflow or "clip" in overflow
    if clipped and any(_at_most_px(value(name, ""), 1) for name in ("height", "width")):
        return True
    if _clipped(value("clip", ""), value("clip-path", "")):
        return True
    scale = _SCALE.search(value("transform", ""))
    if scale is not None:
        numbers = [_first_number(n) for n in scale[1].split(",")]
        if any(n is not None and abs(n) < 0.1 for n in numbers):
            return True
    for name in ("left", "top", "text-indent", "margin-left", "margin-top", "right"):
        if _far_negative(value(name, "")):
            return True
    return False


def _first_number(text: str) -> float | None:
    match = re.search(_NUMBER, text)
    return float(match[1]) if match else None


def _to_px(text: str) -> float | None:
    match = _LENGTH.search(text)
    if match is None:
        return None
    number, unit = float(match[1]), (match[2] or "px").lower()
    factors = {"px": 1.0, "pt": 4 / 3, "em": 16.0, "rem": 16.0, "%": 0.16, "ex": 8.0, "ch": 8.0}
    return number * factors.get(unit, 16.0)


def _zero_length(text: str) -> bool:
    px = _to_px(text) if text else None
    return px is not None and px <= 0


def _at_most_px(text: str, limit: float) -> bool:
    px = _to_px(text) if text else None
    return px is not None and px <= limit


def _tiny_font(text: str) -> bool:
    return _at_most_px(text, 1)


def _far_negative(text: str) -> bool:
    px = _to_px(text) if text else None
    return px is not None and px <= -500


def _clipped(clip: str, clip_path: str) -> bool:
    rect = _CLIP_RECT.search(clip)
    if rect is not None:
        sizes = [_to_px(n) for n in re.split(r"[\s,]+", rect[1].strip()) if n]
        if sizes and all(s is not None and abs(s) <= 1 for s in sizes):
            return True
    path = clip_path.lower()
    if "inset(" in path:
        inset = _first_number(path.split("inset(", 1)[1])
        if inset is not None and ("%" in path and inset >= 50):
            return True
    if re.search(r"(?:circle|ellipse)\(\s*0", path):
        return True
    # A polygon whose every point is at zero encloses nothing.
    return "polygon(" in path and not re.search(r"[1-9]", path.split("polygon(", 1)[1])


def _parse_colour(text: str) -> Colour | None:
    """The RGB of a CSS colour (hex, rgb(), a common name), or None; fully transparent is None
    and is told apart by _invisible through the "transparent" marker colour."""
    text = text.strip().lower()
    hex_match = _HEX.search(text)
    if hex_match is not None:
        digits = hex_match[1]
        if len(digits) in (3, 4):
            digits = "".join(c * 2 for c in digits)
        if len(digits) == 8 and int(digits[6:8], 16) < 26:
            return _TRANSPARENT
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
    rgb = _RGB.search(text)
    if rgb is not None:
        numbers = [n for n in re.split(r"[\s,/]+", rgb[1].strip()) if n]
        try:
            channels = [
                round(float(n[:-1]) * 2.55) if n.endswith("%") else round(float(n))
                for n in numbers[:3]
            ]
            alpha = numbers[3] if len(numbers) > 3 else "1"
            alpha_value = float(alpha[:-1]) / 100 if alpha.endswith("%") else float(alpha)
        except ValueError:
            return None
        if len(channels) == 3:
            if alpha_value < 0.1:
                return _TRANSPARENT
            return (channels[0], channels[1], channels[2])
        return None
    if text == "transparent":
        return _TRANSPARENT
    for word in re.findall(r"[a-z]+", text):
        if word in _NAMED_COLOURS:
            return _NAMED_COLOURS[word]
    return None


# A marker for a colour that shows nothing (alpha under 0.1).
_TRANSPARENT: Colour = (-1, -1, -1)


def _invisible(colour: Colour | None, background: Colour | None) -> bool:
    if colour is None:
        return False
    if colour == _TRANSPARENT:
        return True
    if background is None or background == _TRANSPARENT:
        return False
    return sum(abs(a - b) for a, b in zip(colour, background, strict=True)) <= _COLOUR_DISTANCE


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")
