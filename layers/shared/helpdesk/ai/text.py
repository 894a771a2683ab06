"""Plain-text signals for triage, dependency-free: language, sentiment, a summary, priority rules.

Pure functions over strings; nothing here reads a clock, the network or a model.

- Language: the script first (CJK, Cyrillic, Arabic, ...), then, for Latin script, which
  language's most frequent short words the text uses most. Good enough to route a ticket to
  a language queue; it does not tell Norwegian from Danish.
- Sentiment: a small lexicon with negation, intensifiers and exclamation marks.
- Summary: extractive, one line: the subject when it says something, else the body's first
  informative sentence.
- Priority: rules with reasons (outage, security, money, VIP, sentiment). Words a requester
  uses to demand a priority ("urgent", "ASAP", "set priority to ...") are not signals: a
  ticket's priority follows from what happened, not from what the text claims.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from helpdesk.domain.models import Priority


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": _set(
        "the and is are was to of in it that for you my i have not with this on be can "
        "please what how do does hi hello thanks my we our your"
    ),
    "de": _set(
        "der die das und ist nicht ich sie es ein eine mit zu auf für den dem wir bitte "
        "haben habe kann mein meine ihr hallo danke wie was"
    ),
    "fr": _set(
        "le la les et est pas je vous il elle un une des du de pour avec mon ma mes nous "
        "bonjour merci ne que qui dans sur ce"
    ),
    "es": _set(
        "el la los las y es no yo usted un una de del para con mi mis nosotros hola "
        "gracias que por en se lo como"
    ),
    "it": _set(
        "il lo la gli le e è non io lei un una di del per con mio mia noi ciao grazie "
        "che sono ho nel della"
    ),
    "nl": _set(
        "de het een en is niet ik u je mijn met voor op van wij hallo bedankt dank wat hoe heb kan"
    ),
    "pt": _set(
        "o a os as e é não eu você um uma de do da para com meu minha nós olá obrigado que em por"
    ),
}

_SCRIPTS: tuple[tuple[str, str], ...] = (
    ("HIRAGANA", "ja"),
    ("KATAKANA", "ja"),
    ("HANGUL", "ko"),
    ("CJK", "zh"),
    ("CYRILLIC", "ru"),
    ("ARABIC", "ar"),
    ("HEBREW", "he"),
    ("GREEK", "el"),
    ("THAI", "th"),
    ("DEVANAGARI", "hi"),
)

_NEGATIVE = _set("""
    angry annoyed annoying awful bad broken cancel complaint crash crashed crashes
    disappointed disappointing disgusted disgusting down error fail failed failing failure
    frustrated frustrating furious garbage hate horrible impossible incompetent issue
    lost mad missing never poor problem ridiculous rude scam slow stuck terrible
    unacceptable unhappy unusable upset useless worst wrong wtf
    """)
_POSITIVE = _set("""
    amazing appreciate appreciated awesome excellent fantastic glad good great happy
    helpful love lovely nice perfect pleased quick resolved satisfied solved super
    thank thanks wonderful works
    """)
_NEGATIONS = _set("not no never don't doesn't didn't isn't wasn't can't cannot won't")
_INTENSIFIERS = _set("very really extremely totally completely so absolutely")

_OUTAGE = re.compile(
    r"\b(outage|is down|are down|went down|goes down|site down|service down|not loading|"
    r"unreachable|cannot (?:log ?in|login|access|connect)|can't (?:log ?in|login|access|connect)|"
    r"unable to (?:log ?in|login|access|connect)|5\d\d error|error 5\d\d|"
    r"everyone|all (?:of )?(?:our )?users|production|nobody can|entire team|whole team|"
    r"data loss|lost (?:all|our) data)\b",
    re.IGNORECASE,
)
_SECURITY = re.compile(
    r"\b(hacked|hacker|breach|breached|phishing|fraud|fraudulent|compromised|"
    r"unauthori[sz]ed|stolen|leak|leaked|malware|ransomware|suspicious (?:login|activity|"
    r"transaction|charge)s?|identity theft|someone (?:else )?(?:logged|accessed|used))\b",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"\b(refund|refunded|charged|charge|overcharged|double[- ]charged|billing|invoice|"
    r"payment|paid|chargeback|money|fee|fees|transfer|withdrawal|card declined|"
    r"declined)\b|[$€£¥]\s?\d",
    re.IGNORECASE,
)
_LOW = re.compile(
    r"\b(feature request|suggestion|would be nice|just wondering|no rush|when you have time|"
    r"curious|feedback|newsletter|unsubscribe)\b",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^(hi|hello|hey|dear|good (morning|afternoon|evening)|greetings|thanks|thank you|"
    r"regards|best|cheers|sent from)\b",
    re.IGNORECASE,
)
_UNINFORMATIVE_SUBJECT = re.compile(
    r"^\s*((re|fw|fwd|aw|wg)\s*:\s*)*(help|question|issue|problem|support|urgent|hi|hello|"
    r"request|\(no subject\)|no subject)?\s*[!?.]*\s*$",
    re.IGNORECASE,
)
SUMMARY_CHARS = 140


def words(text: str) -> list[str]:
    """The lower-cased words of `text`."""
    return [word.lower() for word in _WORD.findall(text)]


def detect_language(text: str) -> tuple[str | None, float]:
    """An ISO 639-1 code and a confidence in [0, 1], or (None, 0.0) when there is too little
    text to tell."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None, 0.0
    scripts: dict[str, int] = {}
    for ch in letters[:2000]:
        name = unicodedata.name(ch, "")
        for prefix, language in _SCRIPTS:
            if name.startswith(prefix):
                scripts[language] = scripts.get(language, 0) + 1
                break
    if scripts:
        language, count = max(scripts.items(), key=lambda item: item[1])
        share = count / min(len(letters), 2000)
        if share > 0.3:
            if language == "zh" and ("ja" in scripts or "ko" in scripts):
                language = "ja" if scripts.get("ja", 0) >= scripts.get("ko", 0) else "ko"
            return language, round(min(1.0, share + 0.2), 2)
    tokens = words(text)[:400]
    if len(tokens) < 2:
        return None, 0.0
    scores = {
        language: sum(token in stopwords for token in tokens)
        for language, stopwords in _STOPWORDS.items()
    }
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top == 0:
        return None, 0.0
    confidence = (top - second) / top * min(1.0, top / 3)
    return best, round(max(0.1, confidence), 2)


def sentiment(text: str) -> tuple[str, float]:
    """`negative`, `neutral` or `positive`, with a score in [-1, 1]."""
    tokens = words(text)
    total = 0.0
    for position, token in enumerate(tokens):
        polarity = 1.0 if token in _POSITIVE else -1.0 if token in _NEGATIVE else 0.0
        if not polarity:
            continue
        window = tokens[max(0, position - 3) : position]
        if any(word in _NEGATIONS for word in window):
            polarity = -polarity * 0.8
        if window and window[-1] in _INTENSIFIERS:
            polarity *= 1.5
        total += polarity
    shouting = min(text.count("!"), 5) * 0.3 if total < 0 else 0.0
    score = total - shouting
    normalised = max(-1.0, min(1.0, score / 4))
    if normalised <= -0.2:
        return "negative", round(normalised, 2)
    if normalised >= 0.2:
        return "positive", round(normalised, 2)
    return "neutral", round(normalised, 2)


def summarise(subject: str, body: str, limit: int = SUMMARY_CHARS) -> str:
    """One line: the subject when it is informative, else the body's first sentence that is
    not a greeting; cut at a word boundary to `limit` characters."""
    subject = " ".join(subject.split())
    if subject and not _UNINFORMATIVE_SUBJECT.match(subject) and len(words(subject)) >= 3:
        return _clip(subject, limit)
    for sentence in _SENTENCE.split(body):
        sentence = " ".join(sentence.split())
        if len(words(sentence)) >= 3 and not _GREETING.match(sentence):
            return _clip(sentence, limit)
    return _clip(subject or " ".join(body.split()), limit)


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


@dataclass(frozen=True)
class PriorityDecision:
    """A priority, the reasons that set it, and how sure the rules are."""

    priority: Priority
    reasons: list[str] = field(default_factory=list)
    confidence: float = 0.5


def decide_priority(
    text: str, *, vip: bool = False, sentiment_label: str = "neutral", sentiment_score: float = 0
) -> PriorityDecision:
    """The priority the rules give `text` (subject and body), with every reason that applied.

    Outage and security words make it urgent; money, a VIP requester or strongly negative
    sentiment make it high; feature requests and feedback are low; anything else is normal.
    """
    reasons: list[str] = []
    if _OUTAGE.search(text):
        reasons.append("outage")
    if _SECURITY.search(text):
        reasons.append("security")
    if _MONEY.search(text):
        reasons.append("money")
    if vip:
        reasons.append("vip_requester")
    if sentiment_label == "negative" and sentiment_score <= -0.5:
        reasons.append("negative_sentiment")
    if "outage" in reasons or "security" in reasons:
        level = Priority.URGENT
    elif reasons:
        level = Priority.HIGH
    elif _LOW.search(text):
        reasons.append("low_impact_request")
        level = Priority.LOW
    else:
        level = Priority.NORMAL
    confidence = min(0.95, 0.6 + 0.15 * len(reasons)) if reasons else 0.5
    return PriorityDecision(level, reasons, round(confidence, 2))
