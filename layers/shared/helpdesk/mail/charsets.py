"""Decoding bytes whose charset is declared wrongly, unknown or absent, without ever raising."""

from __future__ import annotations

import codecs
import functools
import os
import unicodedata
from collections.abc import Iterable, Sequence

# Tried, in this order, when neither the declared charset nor UTF-8 decodes the bytes cleanly.
# The best-scoring candidate wins; ties go to the earlier one.
DEFAULT_FALLBACKS: tuple[str, ...] = ("cp1252", "koi8-r", "gb18030")
# A desk whose customers write in other charsets sets its own list, comma-separated.
FALLBACKS_VARIABLE = "HELPDESK_MAIL_FALLBACK_CHARSETS"

# Names that mail clients write but Python does not know, mapped to the codec they mean.
_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "x-unknown": "",
    "unknown-8bit": "",
    "unknown": "",
    "x-user-defined": "",
    "default": "",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc-cn": "gb18030",
    "windows-874": "cp874",
    "utf8": "utf-8",
    "x-mac-roman": "mac_roman",
    "macintosh": "mac_roman",
}


# Encodings in which UTF-8 validity says nothing (every byte pair is plausible).
_WIDE = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"})


def codec_for(charset: str | None) -> str | None:
    """The Python codec name for a declared charset, or None when it is unknown or empty."""
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


# Enough text to tell charsets apart; scoring every character of a long body costs seconds.
_SAMPLE = 2000


@functools.cache
def configured_fallbacks() -> tuple[str, ...]:
    """The fallback charsets: $HELPDESK_MAIL_FALLBACK_CHARSETS (comma-separated, read once,
    unknown names dropped) or DEFAULT_FALLBACKS."""
    names = os.environ.get(FALLBACKS_VARIABLE, "").split(",")
    known = tuple(name.strip() for name in names if codec_for(name.strip()))
    return known or DEFAULT_FALLBACKS


def plausibility(text: str) -> float:
    """A score in [0, 1]: how much `text` looks like human writing rather than mojibake."""
    if not text:
        return 1.0
    bad = 0.0
    letters = 0
    high_latin = 0
    previous_lower = False
    for char in text:
        code = ord(char)
        if code < 128:
            previous_lower = char.islower()
            if char.isalpha():
                letters += 1
            continue
        category = unicodedata.category(char)
        if category.startswith("L"):
            letters += 1
            if 0xC0 <= code <= 0xFF:
                high_latin += 1
            # An upper-case letter right after a lower-case one, inside a word, is mojibake.
            if previous_lower and category == "Lu":
                bad += 1
            previous_lower = category == "Ll"
            continue
        previous_lower = False
        if category in ("Cc", "Co", "Cs", "Cn") or char == "\ufffd":
            bad += 2
        elif category.startswith("S") or category in ("Po", "No"):
            bad += 0.5
    if letters and high_latin / letters > 0.4:
        # Latin text uses accented letters sparingly; a word made of them is another charset.
        bad += high_latin
    return max(0.0, 1.0 - bad / len(text))


def decode_bytes(
    data: bytes,
    declared: str | None = None,
    fallbacks: Sequence[str] | None = None,
    hints: Iterable[str] = (),
) -> tuple[str, str]:
    """Decode `data` as well as can be done; return (text, the codec that was used).

    Tries UTF-8, then the declared charset, strictly; then any `hints` (charsets declared
    elsewhere in the same mail) and `fallbacks`, keeping the most plausible. Never raises: the
    last resort is UTF-8 with replacement characters.
    """
    declared_codec = codec_for(declared)
    # Valid UTF-8 with 8-bit bytes in it is almost never an accident, whatever was declared:
    # clients that write raw UTF-8 under "us-ascii" or "iso-8859-1" are common.
    if data.isascii():
        # Seven-bit data is ASCII, unless a seven-bit encoding (ISO-2022-JP, UTF-7) says more.
        first: tuple[str | None, ...] = (declared_codec, "ascii")
    elif declared_codec in _WIDE:
        first = (declared_codec,)
    else:
        first = ("utf-8", declared_codec)
    for codec in first:
        if codec is None:
            continue
        try:
            return data.decode(codec), codec
        except (UnicodeDecodeError, LookupError):
            continue

    best: tuple[float, int, str, str] | None = None
    if fallbacks is None:
        fallbacks = configured_fallbacks()
    candidates = [codec_for(name) for name in (*hints, *fallbacks, "latin-1")]
    for order, codec in enumerate(dict.fromkeys(c for c in candidates if c)):
        try:
            text = data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        score = plausibility(text[:_SAMPLE])
        if best is None or score > best[0]:
            best = (score, order, text, codec)
    if best is not None:
        return best[2], best[3]
    return data.decode("utf-8", errors="replace"), "utf-8"
