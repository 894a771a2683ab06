"""Separating a reply's new text from quoted history and signatures, in linear time.

The body is cut into fragments, read from the bottom up: runs of quoted lines (">"), quote
headers ("On ... wrote:", Outlook "From: / Sent: / To: / Subject:" blocks, "-----Original
Message-----"), signatures (a block under a blank line that starts with "--", "__", "-Name"
or "Sent from my ...") and the rest. Everything below the lowest piece of new text that is
quoted, a header or a signature is hidden; a quote header hides everything under it. The
visible text is what is left; the full text is never changed.

Every line is looked at a bounded number of times and no regular expression can backtrack
over more than one line, so a 1 MB quote takes milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# One line at a time, all anchored; none of these can run away on a long line.
_WROTE_VERBS = (
    r"wrote|writes|schrieb|a\s+écrit|escribió|escribio|ha\s+scritto|scrisse|schreef|"
    r"escreveu|pisze|napisał\(a\)|napisał|napisala|skrev|написал\(\u0430\)|написал|написала|"
    r"kirjoitti|napsal|napsala|írta|yazd\u0131|έγραψε|件のメール|写道|寫道|작성"
)
_QUOTE_HEADER_EN = re.compile(r"^On\s.*wrote:$")
_WROTE = re.compile(rf"\b(?:{_WROTE_VERBS})", re.IGNORECASE)
# Gmail in some languages writes no verb at all: "<date>, <time>, Name <address>:".
_TIME = re.compile(r"\d{1,2}:\d{2}")
_ADDRESS_THEN_COLON = re.compile(r"<[^<>@\s]+@[^<>\s]+>\s?[:\uff1a]$")
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine|"
    r"Mensaje original|Messaggio originale|Oorspronkelijk bericht|Mensagem original|"
    r"Oryginalna wiadomość|Исходное сообщение|Originalmeddelande)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:From|Von|De|Da|Van|Od|Från|Fra|От)\s?:\*?\s+\S")
_OUTLOOK_DATE = re.compile(
    r"^\s*\*?(?:Sent|Date|Gesendet|Datum|Envoyé|Enviado|Inviato|Data|Verzonden|Skickat|"
    r"Sendt|Wysłano|Отправлено|Date d'envoi)\s?:\*?\s+\S",
    re.IGNORECASE,
)
_OUTLOOK_OTHER = re.compile(
    r"^\s*\*?(?:To|Cc|Subject|An|Betreff|À|A|Objet|Para|Asunto|Oggetto|Aan|Onderwerp|"
    r"Till|Ämne|Til|Emne|Do|Temat|Kopie|Cc|Кому|Тема|Importance|Priorität)\s?:\*?(?:\s|$)",
    re.IGNORECASE,
)
_RULE_LINE = re.compile(r"^ ?[_-]{7,}\s*$")
_SENT_FROM = re.compile(
    r"^(?:Sent from my|Sent from|Envoyé de mon|Enviado desde mi|Enviado do meu|Inviato da|"
    r"Verzonden met|Von meinem|Get Outlook for)(?:\s+[\w®™.-]+){1,3}(?:\s+gesendet)?"
    r"(?:\s*<https?://[^<>\s]+>)?$"
)
_WORD_DASH = re.compile(r"^-\w")
_MAX_HEADER_LINES = 6
MAX_SCAN = 1_000_000


@dataclass
class Fragment:
    """A run of lines of one kind; `content` is the lines joined with "\\n", unstripped."""

    quoted: bool
    header: bool
    lines: list[str] = field(default_factory=list)
    signature: bool = False
    hidden: bool = False
    content: str = ""


@dataclass
class Reply:
    """A body cut into fragments, top to bottom, and the visible new text."""

    fragments: list[Fragment]
    visible_text: str


def parse_reply(text: str) -> Reply:
    """Cut `text` into fragments and say which are quoted, headers, signatures or hidden.

    Returns the fragments in reading order and the visible text (the non-hidden fragments,
    stripped); never raises.
    """
    lines = _prepare(text)
    kinds = _line_kinds(lines)
    fragments = _scan(lines, kinds)
    visible = "\n".join(f.content for f in fragments if not f.hidden).strip()
    return Reply(fragments=fragments, visible_text=visible)


def visible_text(text: str) -> str:
    """The new text of a reply: quoted history and signatures cut off.

    Falls back to the whole text (stripped) when nothing would be left, so that a mail made
    only of quoted text still shows something. Only the first MAX_SCAN characters are read:
    new text sits at the top, and a huge body must not cost seconds.
    """
    head = text if len(text) <= MAX_SCAN else text[: text.rfind("\n", 0, MAX_SCAN) + 1]
    visible = parse_reply(head).visible_text
    return visible or text.strip()


def _prepare(text: str) -> list[str]:
    """Lines with line endings normalised, wrapped "On ... wrote:" headers joined, and a blank
    line inserted above a rule line that directly follows text (Outlook's reply separator)."""
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines: list[str] = []
    index = 0
    while index < len(raw):
        line = raw[index]
        joined = _join_wrapped_header(raw, index)
        if joined is not None:
            line, index = joined
        if _RULE_LINE.match(line) and lines and lines[-1].strip():
            lines.append("")
        lines.append(line)
        index += 1
    return lines


def _join_wrapped_header(raw: list[str], index: int) -> tuple[str, int] | None:
    """("On ... wrote:" on one line, index of its last line) if a header starts here."""
    first = raw[index]
    if not first.startswith("On") or not first[2:3].isspace() or _is_quote_header(first):
        return None
    for end in range(index + 1, min(index + 4, len(raw))):
        line = raw[end]
        if not line.strip() or line.startswith(">") or _RULE_LINE.match(line):
            return None
        if line.startswith("On") and line[2:3].isspace():
            return None
        if line.rstrip().endswith("wrote:"):
            parts = [part.strip() for part in raw[index : end + 1]]
            return " ".join(parts), end
    return None


def _is_quote_header(line: str) -> bool:
    stripped = line.rstrip()
    if _QUOTE_HEADER_EN.match(stripped):
        return True
    if not stripped.endswith((":", "\uff1a")) or len(stripped) > 400 or stripped.startswith(">"):
        return False
    if not any(ch.isdigit() for ch in stripped) and "@" not in stripped:
        return False
    # Plain searches over a bounded tail: no nested quantifiers, nothing to backtrack into.
    if _WROTE.search(stripped[-250:]):
        return True
    return bool(_TIME.search(stripped) and _ADDRESS_THEN_COLON.search(stripped))


def _line_kinds(lines: list[str]) -> list[str]:
    """For each line: "quote_header", "header" (Outlook block), "quoted" or "text"."""
    kinds = ["text"] * len(lines)
    for index, line in enumerate(lines):
        if line.startswith(">"):
            kinds[index] = "quoted"
        elif kinds[index] == "header":
            continue
        elif _is_quote_header(line):
            kinds[index] = "quote_header"
        elif _ORIGINAL_MESSAGE.match(line):
            kinds[index] = "header"
        elif _OUTLOOK_FROM.match(line):
            end = _outlook_block_end(lines, index)
            if end is not None:
                for inner in range(index, end + 1):
                    kinds[inner] = "header"
    return kinds


def _outlook_block_end(lines: list[str], start: int) -> int | None:
    """The last line of a "From: / Sent: / To: / Subject:" block starting at `start`."""
    seen_date = seen_other = False
    end = start
    for index in range(start + 1, min(start + 1 + _MAX_HEADER_LINES, len(lines))):
        line = lines[index]
        if _OUTLOOK_DATE.match(line):
            seen_date = True
        elif _OUTLOOK_OTHER.match(line):
            seen_other = True
        else:
            break
        end = index
    return end if seen_date and seen_other else None


def _is_signature_start(line: str) -> bool:
    stripped = line.rstrip()
    content = stripped.lstrip()
    if content.startswith("--") or content.startswith("__"):
        return True
    return bool(_WORD_DASH.match(stripped) or _SENT_FROM.match(stripped))


class _Scanner:
    """Builds fragments from the bottom line up."""

    def __init__(self) -> None:
        self.fragments: list[Fragment] = []
        self.current: Fragment | None = None
        self.found_visible = False

    def add(self, line: str, kind: str) -> None:
        blank = not line.strip()
        quoted = kind == "quoted"
        header = kind in ("header", "quote_header")
        current = self.current
        if current is not None and blank and _is_signature_start(current.lines[-1]):
            current.signature = True
            self.finish()
            current = None
        if current is not None and (
            (current.quoted == quoted and current.header == header)
            or (current.quoted and (kind == "quote_header" or blank))
        ):
            current.lines.append(line)
            return
        self.finish()
        self.current = Fragment(quoted=quoted, header=header, lines=[line])

    def finish(self) -> None:
        fragment = self.current
        if fragment is None:
            return
        fragment.lines.reverse()
        fragment.content = "\n".join(fragment.lines)
        if fragment.header:
            # Everything under a quote header is history, whatever it looked like.
            for below in self.fragments:
                below.hidden = True
            self.found_visible = False
        if not self.found_visible:
            if (
                fragment.quoted
                or fragment.header
                or fragment.signature
                or not fragment.content.strip()
            ):
                fragment.hidden = True
            else:
                self.found_visible = True
        self.fragments.append(fragment)
        self.current = None


def _scan(lines: list[str], kinds: list[str]) -> list[Fragment]:
    scanner = _Scanner()
    for line, kind in zip(reversed(lines), reversed(kinds), strict=True):
        scanner.add(line, kind)
    scanner.finish()
    scanner.fragments.reverse()
    return scanner.fragments
