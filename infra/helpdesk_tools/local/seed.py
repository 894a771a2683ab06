"""First-start seeding from the shared public corpus: a knowledge base from the FAQ set, and
several hundred tickets delivered as real mail through the local SMTP server.

The tickets come from the labelled customer-support data sets (BANKING77, Bitext), each query
turned into a mail from one of a pool of requesters, and from the real customer mails of
corpus A. Nothing is copied into the repository; the corpus is read where it lies.
"""

from __future__ import annotations

import csv
import logging
import os
import random
import re
import smtplib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any

from helpdesk_tools.template import ROOT

logger = logging.getLogger(__name__)
_LOG = {"component": "seed"}

BANKING = Path("B/intent_triage/banking77/test.csv")
BITEXT = Path(
    "B/intent_triage/bitext_customer_support/Bitext_Sample_Customer_Support_Training_Dataset.csv"
)
FAQ = Path("B/faq_kb/covid_qa/faq_covidbert.csv")
CUSTOMER_MAIL = Path("A/helpdesk_ingest")

_FIRST = ["Ana", "Ben", "Chloé", "Dmitri", "Emeka", "Farah", "Gustav", "Hana", "Ivan", "Jia",
          "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq",
          "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoë"]  # fmt: skip
_LAST = ["Almeida", "Brown", "Chen", "Dubois", "Eriksen", "Fischer", "García", "Haddad", "Ito",
         "Jensen", "Kowalski", "López", "Müller", "Novak", "Okafor", "Petrov", "Rossi", "Singh",
         "Tanaka", "Usman", "Varga", "Weber", "Yilmaz", "Zhang"]  # fmt: skip
_DOMAINS = ["example.org", "example.net", "mail.example.org", "customers.example.net"]


def corpus_root(explicit: Path | None = None) -> Path:
    """Where the shared corpus is: `explicit`, else HELPDESK_CORPUS, else ../shared/corpus."""
    if explicit is not None:
        return explicit
    return Path(os.environ.get("HELPDESK_CORPUS", ROOT.parent / "shared" / "corpus"))


@dataclass
class Mail:
    """One mail to deliver: its envelope sender and its raw bytes."""

    sender: str
    raw: bytes
    origin: str


@dataclass
class SeedReport:
    """What seeding did, for the start banner and the benchmark."""

    articles: int = 0
    kb_store: str = ""
    examples: int = 0
    mails_sent: int = 0
    mails_refused: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def mails_per_second(self) -> float:
        return self.mails_sent / self.seconds if self.seconds else 0.0


# -- mails --------------------------------------------------------------------------------


def dataset_mails(
    rows: Iterable[tuple[str, str]], *, count: int, rng: random.Random, support: str, now: datetime
) -> Iterator[Mail]:
    """Up to `count` customer queries as mails from a pool of requesters, a few minutes apart."""
    people = [_person(rng) for _ in range(max(8, count // 3))]
    for index, (text, _category) in enumerate(rows):
        if index >= count:
            return
        name, address = rng.choice(people)
        message = EmailMessage()
        message["From"] = f"{name} <{address}>"
        message["To"] = support
        message["Subject"] = _subject(text)
        message["Date"] = format_datetime(now - timedelta(minutes=(count - index) * 3))
        message["Message-ID"] = make_msgid(domain=address.rpartition("@")[2])
        message.set_content(f"Hello,\n\n{text.strip()}\n\nThanks,\n{name.split()[0]}\n")
        yield Mail(sender=address, raw=message.as_bytes(), origin="dataset")


def _person(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    local = re.sub(r"[^a-z]", "", f"{first}.{last}".lower().replace("é", "e").replace("ë", "e"))
    return f"{first} {last}", f"{local}{rng.randint(1, 99)}@{rng.choice(_DOMAINS)}"


def _subject(text: str) -> str:
    words = " ".join(text.split()).rstrip("?.!")
    return words if len(words) <= 60 else words[:57].rsplit(" ", 1)[0] + "..."


def file_mails(paths: Iterable[Path], origin: str = "file") -> Iterator[Mail]:
    """Mail files as they are; the envelope sender is the From address, or a placeholder."""
    for path in paths:
        raw = path.read_bytes()
        yield Mail(sender=_from_address(raw), raw=raw, origin=f"{origin}:{path.name}")


def _from_address(raw: bytes) -> str:
    match = re.search(rb"^From:[ \t]*(.*(?:\r?\n[ \t].*)*)", raw, re.MULTILINE | re.IGNORECASE)
    if match:
        address = parseaddr(match.group(1).decode("ascii", "replace"))[1]
        if "@" in address and address.isascii():
            return address
    return "unknown-sender@example.invalid"


def mail_files(path: Path) -> list[Path]:
    """`path` itself, or the .eml/.msg/.txt files under it, sorted by name."""
    if path.is_file():
        return [path]
    return sorted(
        p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in {".eml", ".msg", ".mbx"}
    )


def smtp_lines(raw: bytes) -> bytes:
    """`raw` with CRLF line ends, as SMTP carries mail (files on disk often end lines in LF)."""
    return re.sub(rb"\r?\n", b"\r\n", raw)


def read_rows(path: Path, text_column: str, label_column: str) -> list[tuple[str, str]]:
    """(text, label) pairs from a CSV file with those columns."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            (row[text_column], row.get(label_column, ""))
            for row in csv.DictReader(handle)
            if row.get(text_column, "").strip()
        ]


def deliver(
    mails: Iterable[Mail],
    host: str,
    port: int,
    recipient: str,
    *,
    total: int | None = None,
    progress: bool = True,
    description: str = "mail",
) -> tuple[int, int]:
    """Send each mail over SMTP to `recipient`; returns (accepted, refused)."""
    from tqdm import tqdm

    accepted = refused = 0
    with smtplib.SMTP(host, port, timeout=60) as client:
        for mail in tqdm(mails, total=total, disable=not progress, unit="mail", desc=description):
            try:
                client.sendmail(mail.sender, [recipient], smtp_lines(mail.raw))
                accepted += 1
            except (
                smtplib.SMTPRecipientsRefused,
                smtplib.SMTPDataError,
                smtplib.SMTPSenderRefused,
            ) as error:
                refused += 1
                reason = str(error)[:200]
                logger.warning(
                    "mail refused", extra={**_LOG, "origin": mail.origin, "reason": reason}
                )
                client.rset()
    return accepted, refused


# -- knowledge base -----------------------------------------------------------------------


def seed_knowledge_base(table: Any, faq: Path, now: datetime) -> tuple[int, str]:
    """Store the FAQ rows as knowledge-base articles; returns (count, where they went)."""
    with faq.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("question") and row.get("answer")]
    try:
        from helpdesk.kb.models import Article, SearchDoc
        from helpdesk.kb.repository import ArticleRepository
    except ImportError:
        return _kb_as_config(table, rows), "config items (helpdesk.kb is not there yet)"
    repository = ArticleRepository(table)
    for index, row in enumerate(rows, start=1):
        title = " ".join(row["question"].split())[:300]
        body = row["answer"].strip()
        tags = [tag for tag in (row.get("source"), row.get("category")) if tag]
        article = Article(
            id=f"faq-{index:03d}",
            title=title,
            body=body,
            tags=tags,
            locale=(row.get("lang") or "en").lower(),
            created_at=now,
            updated_at=now,
            author="seed",
        )
        doc = SearchDoc(
            id=article.id,
            title=title,
            text=body,
            tags=article.tags,
            locale=article.locale,
            passages=[p.strip() for p in body.split("\n\n") if p.strip()] or [body],
        )
        repository.create(article, doc)
    return len(rows), "helpdesk.kb articles (keyword search; no vectors stored)"


def _kb_as_config(table: Any, rows: list[dict[str, str]]) -> int:
    from pydantic import BaseModel

    from helpdesk.data.config import ConfigRepository

    class FaqArticle(BaseModel):
        id: str
        title: str
        body: str
        source: str = ""

    repository = ConfigRepository(table)
    for index, row in enumerate(rows, start=1):
        article_id = f"faq-{index:03d}"
        repository.put(
            "kb_article",
            article_id,
            FaqArticle(
                id=article_id,
                title=row["question"],
                body=row["answer"],
                source=row.get("source", ""),
            ),
        )
    return len(rows)


# -- triage -------------------------------------------------------------------------------

TEAMS = {"billing": "Billing", "logistics": "Logistics", "support": "Support"}
ROUTING = {
    "refund": "billing",
    "invoice": "billing",
    "payment": "billing",
    "cancellation_fee": "billing",
    "order": "logistics",
    "delivery": "logistics",
    "shipping_address": "logistics",
}


def seed_triage(table: Any, bitext: Path, *, per_category: int, rng: random.Random) -> int:
    """Teams, routing and labelled examples (Bitext's categories) for the local triager;
    returns how many examples were stored. An existing triage configuration is kept."""
    from helpdesk.ai.service import CONFIG_ID, CONFIG_KIND
    from helpdesk.ai.triage import Example, TriageConfig
    from helpdesk.data.config import ConfigRepository
    from helpdesk.domain.models import Team
    from helpdesk.exceptions import NotFoundError

    config = ConfigRepository(table)
    try:
        config.get(CONFIG_KIND, CONFIG_ID, TriageConfig)
        return 0
    except NotFoundError:
        pass
    by_category: dict[str, list[str]] = {}
    with bitext.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            by_category.setdefault(row["category"].strip().lower(), []).append(row["instruction"])
    examples = [
        Example(text=text, category=category)
        for category, texts in sorted(by_category.items())
        for text in rng.sample(texts, min(per_category, len(texts)))
    ]
    for team_id, name in TEAMS.items():
        config.put("teams", team_id, Team(id=team_id, name=name))
    triage = TriageConfig(
        categories=sorted(by_category),
        routing=ROUTING,
        default_team="support",
        examples=examples,
    )
    config.put(CONFIG_KIND, CONFIG_ID, triage)
    return len(examples)


# -- the whole seed -----------------------------------------------------------------------


def seed(
    stack: Any, corpus: Path, *, count: int = 400, progress: bool = True, rng_seed: int = 4
) -> SeedReport:
    """Seed a started LocalStack from `corpus` with `count` mails (about a tenth of them real
    customer mails); returns what was done. Mail goes through the stack's SMTP port; the call
    returns when ingest has processed all of it."""
    report = SeedReport()
    info = stack.info
    now = datetime.now(UTC)
    table = stack.session.resource("dynamodb").Table(info.tables["Table"])
    if (corpus / FAQ).is_file():
        report.articles, report.kb_store = seed_knowledge_base(table, corpus / FAQ, now)
        logger.info(
            "knowledge base seeded",
            extra={**_LOG, "articles": report.articles, "store": report.kb_store},
        )
    else:
        report.notes.append(f"no FAQ set at {corpus / FAQ}: knowledge base left empty")
    if (corpus / BITEXT).is_file():
        report.examples = seed_triage(
            table, corpus / BITEXT, per_category=20, rng=random.Random(rng_seed)
        )
        logger.info("triage configured", extra={**_LOG, "examples": report.examples})
    mails, total = _seed_mails(corpus, count, random.Random(rng_seed), info.support_address, now)
    if not total:
        report.notes.append(f"no labelled data or mail fixtures under {corpus}")
        return report
    started = time.perf_counter()
    report.mails_sent, report.mails_refused = deliver(
        mails,
        info.smtp_host,
        info.smtp_port,
        info.support_address,
        total=total,
        progress=progress,
        description="seeding",
    )
    stack.inbox.wait_drained(timeout=max(120.0, total * 2.0))
    report.seconds = time.perf_counter() - started
    return report


def _seed_mails(
    corpus: Path, count: int, rng: random.Random, support: str, now: datetime
) -> tuple[Iterator[Mail], int]:
    # About one mail in ten is a real customer mail from corpus A; the rest are data-set rows.
    files = mail_files(corpus / CUSTOMER_MAIL) if (corpus / CUSTOMER_MAIL).is_dir() else []
    files = files[: min(len(files), max(1, count // 10))]
    wanted = max(0, count - len(files))
    rows: list[tuple[str, str]] = []
    if (corpus / BANKING).is_file():
        banking = read_rows(corpus / BANKING, "text", "category")
        rows += rng.sample(banking, min(len(banking), wanted * 3 // 5))
    if (corpus / BITEXT).is_file():
        bitext = read_rows(corpus / BITEXT, "instruction", "intent")
        rows += rng.sample(bitext, min(len(bitext), wanted - len(rows)))
    rng.shuffle(rows)
    total = len(rows) + len(files)

    def all_mails() -> Iterator[Mail]:
        yield from dataset_mails(rows, count=len(rows), rng=rng, support=support, now=now)
        yield from file_mails(files, origin="corpus")

    return all_mails(), total
