"""`helpdesk eval kb`: how often the first responder answers, and how often it is right.

Inputs: a KB CSV (`id,title,body`, optionally tags, visibility, locale) and a questions CSV
(`question,expected_article_id`; an empty id means no article answers it). Or `--dataset covid`
/ `--dataset bitext` to derive both from the shared corpus (`helpdesk eval kb-prepare` writes
those CSVs to a folder).

For each question, the best article and its confidence (score and gap to the best other
article) come from the same code the first responder uses: hybrid (BM25 + MiniLM, RRF) and,
side by side in the same run, keyword-only BM25. At the chosen thresholds:

- coverage: answered / all questions;
- precision: answered with the expected article / answered;
- auto-resolution rate: answered with the expected article / all questions (it assumes the
  customer clicks "yes" exactly when the cited article is the right one);
- wrong answers to out-of-scope questions: answered / questions with no expected article.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from helpdesk.kb.importer import read_csv
from helpdesk.kb.models import Article, Audience
from helpdesk.kb.search import KbSearchIndex, Retrieval
from helpdesk.kb.service import search_doc
from helpdesk.kb.settings import KbSettings

SEED = 8
COVID_CSV = Path("B/faq_kb/covid_qa/faq_covidbert.csv")
BITEXT_CSV = Path(
    "B/intent_triage/bitext_customer_support/Bitext_Sample_Customer_Support_Training_Dataset.csv"
)
BANKING_CSV = Path("B/intent_triage/banking77/test.csv")


@dataclass(frozen=True)
class Outcome:
    """One question's best article and confidence under one method."""

    expected: str
    chosen: str | None
    score: float
    gap: float

    @property
    def correct(self) -> bool:
        return bool(self.expected) and self.chosen == self.expected


@dataclass(frozen=True)
class Figures:
    questions: int
    in_scope: int
    recall_at_1: float
    coverage: float
    precision: float
    auto_resolution: float
    out_of_scope_answered: float


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("kb", help="first-responder coverage and precision on a KB")
    parser.add_argument("--kb", type=Path, help="KB CSV: id,title,body")
    parser.add_argument("--questions", type=Path, help="CSV: question,expected_article_id")
    parser.add_argument("--dataset", choices=["covid", "bitext"], help="derive both from corpus")
    parser.add_argument("--corpus", type=Path, default=None, help="shared corpus folder")
    defaults = KbSettings()
    parser.add_argument("--min-score", type=float, default=defaults.kb_min_score)
    parser.add_argument("--min-gap", type=float, default=defaults.kb_min_gap)
    parser.add_argument("--keyword-min-score", type=float, default=defaults.kb_keyword_min_score)
    parser.add_argument("--keyword-min-gap", type=float, default=defaults.kb_keyword_min_gap)
    parser.add_argument("--sweep", action="store_true", help="also print a threshold sweep")
    parser.add_argument("--json", action="store_true", help="print figures as JSON")
    parser.set_defaults(handler=run)

    prepare = subparsers.add_parser("kb-prepare", help="write the KB and questions CSVs")
    prepare.add_argument("--dataset", choices=["covid", "bitext"], required=True)
    prepare.add_argument("--out", type=Path, required=True, help="folder for kb.csv, questions.csv")
    prepare.add_argument("--corpus", type=Path, default=None)
    prepare.set_defaults(handler=run_prepare)


# -- commands -----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    if args.dataset:
        kb_rows, questions = derive(args.dataset, corpus_path(args.corpus))
        source = f"dataset {args.dataset}"
    elif args.kb and args.questions:
        kb_rows = read_rows(args.kb.read_text(encoding="utf-8"))
        questions = read_rows(args.questions.read_text(encoding="utf-8"))
        source = f"{args.kb} + {args.questions}"
    else:
        print("give --kb and --questions, or --dataset", file=sys.stderr)
        return 2
    started = time.perf_counter()
    hybrid, keyword = evaluate(kb_rows, questions)
    elapsed = time.perf_counter() - started
    rows = {
        "hybrid (BM25 + MiniLM, RRF)": figures(hybrid, args.min_score, args.min_gap),
        "keyword only (BM25)": figures(keyword, args.keyword_min_score, args.keyword_min_gap),
    }
    if args.json:
        print(json.dumps({name: vars(value) for name, value in rows.items()}, indent=2))
        return 0
    print(f"knowledge base: {len(kb_rows)} articles; questions: {len(questions)} ({source})")
    print(
        f"thresholds: hybrid cosine >= {args.min_score}, gap >= {args.min_gap}; "
        f"BM25 confidence >= {args.keyword_min_score}, gap >= {args.keyword_min_gap}"
    )
    print(table(rows))
    if args.sweep:
        print()
        print(sweep("hybrid", hybrid, [0.3, 0.4, 0.5, 0.6, 0.7], [0.0, 0.02, 0.05, 0.1]))
        print()
        print(sweep("keyword", keyword, [0.1, 0.2, 0.3, 0.4, 0.5], [0.0, 0.02, 0.05, 0.1]))
    print(f"\n{elapsed:.1f} s on this machine, embedding included")
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    kb_rows, questions = derive(args.dataset, corpus_path(args.corpus))
    args.out.mkdir(parents=True, exist_ok=True)
    write_rows(args.out / "kb.csv", ["id", "title", "body"], kb_rows)
    write_rows(args.out / "questions.csv", ["question", "expected_article_id"], questions)
    print(f"wrote {len(kb_rows)} articles and {len(questions)} questions to {args.out}")
    return 0


# -- measuring ----------------------------------------------------------------------------


def evaluate(
    kb_rows: Sequence[dict[str, str]], questions: Sequence[dict[str, str]]
) -> tuple[list[Outcome], list[Outcome]]:
    """Each question's outcome under the hybrid method and under keyword-only BM25."""
    from helpdesk.ai.embed import shared_onnx_embedder

    embedder = shared_onnx_embedder()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    buffer = io.StringIO()
    write_csv(buffer, ["id", "title", "body"], kb_rows)
    docs = []
    for article_id, draft in read_csv(buffer.getvalue()):
        article = Article(**draft.model_dump(), id=article_id, created_at=now, updated_at=now)
        docs.append(search_doc(article, embedder))
    index = KbSearchIndex(docs)
    hybrid: list[Outcome] = []
    keyword: list[Outcome] = []
    for row in questions:
        text, expected = row["question"], (row.get("expected_article_id") or "").strip()
        for method, out in ((embedder, hybrid), (None, keyword)):
            retrieval = index.retrieve(text, audience=Audience.AGENT, embedder=method, k=5)
            out.append(outcome(retrieval, expected))
    return hybrid, keyword


def outcome(retrieval: Retrieval, expected: str) -> Outcome:
    score, gap = retrieval.confidence()
    best = retrieval.best
    return Outcome(expected, best.doc.id if best else None, score, gap)


def figures(outcomes: Sequence[Outcome], min_score: float, min_gap: float) -> Figures:
    """The figures at one threshold pair (see the module docstring for the definitions)."""
    answered = [o for o in outcomes if o.chosen and o.score >= min_score and o.gap >= min_gap]
    in_scope = [o for o in outcomes if o.expected]
    out_of_scope = [o for o in outcomes if not o.expected]
    right = [o for o in answered if o.correct]
    return Figures(
        questions=len(outcomes),
        in_scope=len(in_scope),
        recall_at_1=_ratio(sum(o.correct for o in in_scope), len(in_scope)),
        coverage=_ratio(len(answered), len(outcomes)),
        precision=_ratio(len(right), len(answered)),
        auto_resolution=_ratio(len(right), len(outcomes)),
        out_of_scope_answered=_ratio(sum(1 for o in answered if not o.expected), len(out_of_scope)),
    )


def table(rows: dict[str, Figures]) -> str:
    header = f"{'method':<30} {'R@1 in scope':>12} {'coverage':>9} {'precision':>10} "
    header += f"{'auto-resolved':>13} {'OOS answered':>13}"
    lines = [header, "-" * len(header)]
    for name, f in rows.items():
        lines.append(
            f"{name:<30} {f.recall_at_1:>12.3f} {f.coverage:>9.3f} {f.precision:>10.3f} "
            f"{f.auto_resolution:>13.3f} {f.out_of_scope_answered:>13.3f}"
        )
    return "\n".join(lines)


def sweep(
    name: str, outcomes: Sequence[Outcome], scores: Sequence[float], gaps: Sequence[float]
) -> str:
    lines = [f"{name} sweep: coverage / precision / auto-resolved at min score (rows), gap (cols)"]
    lines.append(f"{'score':>6} " + " ".join(f"{'gap ' + str(g):>20}" for g in gaps))
    for score in scores:
        cells = []
        for gap in gaps:
            f = figures(outcomes, score, gap)
            cells.append(f"{f.coverage:.2f}/{f.precision:.2f}/{f.auto_resolution:.2f}".rjust(20))
        lines.append(f"{score:>6} " + " ".join(cells))
    return "\n".join(lines)


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


# -- data sets ----------------------------------------------------------------------------


def corpus_path(given: Path | None) -> Path:
    if given is not None:
        return given
    root = Path(__file__).resolve().parents[3]
    return Path(os.environ.get("HELPDESK_CORPUS", root.parent / "shared" / "corpus"))


def derive(dataset: str, corpus: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(KB rows, question rows) for a named data set of the shared corpus."""
    if not corpus.is_dir():
        raise SystemExit(f"the shared corpus is absent at {corpus} (set HELPDESK_CORPUS)")
    if dataset == "covid":
        return covid(corpus)
    return bitext(corpus)


def covid(corpus: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The COVID FAQ as a KB (title = the FAQ's question, body = its answer), deduplicated by
    question. A fifth of the articles is held out of the KB: the rewrites of their questions
    must not be answered, and neither must 100 BANKING77 queries. Every article's question is
    rewritten by rule (see `paraphrase`) into the question asked."""
    rows = read_rows((corpus / COVID_CSV).read_text(encoding="utf-8"))
    seen: set[str] = set()
    articles = []
    for number, row in enumerate(rows):
        key = re.sub(r"\W+", " ", row["question"].lower()).strip()
        if not key or key in seen or not row["answer"].strip():
            continue
        seen.add(key)
        articles.append({"id": f"covid-{number}", "title": row["question"], "body": row["answer"]})
    rng = random.Random(SEED)
    held_out = set(rng.sample([a["id"] for a in articles], len(articles) // 5))
    kb = [a for a in articles if a["id"] not in held_out]
    questions = [
        {
            "question": paraphrase(a["title"], rng),
            "expected_article_id": "" if a["id"] in held_out else a["id"],
        }
        for a in articles
    ]
    questions += banking_out_of_scope(corpus, rng, 100)
    return kb, questions


def bitext(corpus: Path) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Bitext as a KB: one article per intent, its body three template responses of that
    intent (from an 80% split). Four intents are held out of the KB. The questions are 20
    instructions per intent from the other 20%: held-out intents' ones have no answer."""
    rows = read_rows((corpus / BITEXT_CSV).read_text(encoding="utf-8"))
    rng = random.Random(SEED)
    by_intent: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_intent[row["intent"]].append(row)
    intents = sorted(by_intent)
    held_out = set(rng.sample(intents, 4))
    kb, questions = [], []
    for intent in intents:
        group = by_intent[intent][:]
        rng.shuffle(group)
        cut = int(len(group) * 0.8)
        train, test = group[:cut], group[cut:]
        if intent not in held_out:
            body = "\n\n".join(row["response"] for row in train[:3])
            title = intent.replace("_", " ").capitalize()
            kb.append({"id": intent.replace("_", "-"), "title": title, "body": body})
        for row in test[:20]:
            expected = "" if intent in held_out else intent.replace("_", "-")
            questions.append({"question": row["instruction"], "expected_article_id": expected})
    return kb, questions


def banking_out_of_scope(corpus: Path, rng: random.Random, count: int) -> list[dict[str, str]]:
    rows = read_rows((corpus / BANKING_CSV).read_text(encoding="utf-8"))
    return [{"question": row["text"], "expected_article_id": ""} for row in rng.sample(rows, count)]


_SYNONYMS = {
    "children": "kids",
    "child": "kid",
    "symptoms": "signs",
    "spread": "transmitted",
    "doctor": "physician",
    "wear": "put on",
    "mask": "face covering",
    "masks": "face coverings",
    "travel": "take a trip",
    "pregnant": "expecting a baby",
    "vaccine": "vaccination",
    "protect": "keep safe",
    "people": "persons",
    "sick": "ill",
    "risk": "danger",
    "pets": "animals at home",
    "home": "my house",
    "should": "ought to",
    "get": "catch",
    "test": "check",
    "tested": "checked",
    "can": "could",
}

_TEMPLATES = (
    (r"^what is (.+)$", ["could you explain {0}", "i want to know what {0} means"]),
    (r"^what are (.+)$", ["tell me about {0}", "could you list {0}"]),
    (r"^how (do|can|should) i (.+)$", ["i'd like to know how to {1}", "best way to {1}"]),
    (r"^how (.+)$", ["in what way {0}", "explain how {0}"]),
    (r"^(can|could) i (.+)$", ["is it possible for me to {1}", "am i allowed to {1}"]),
    (r"^should i (.+)$", ["do i need to {0}", "is it recommended that i {0}"]),
    (r"^(is|are) there (.+)$", ["do you know if there {0} {1}", "any info whether there {0} {1}"]),
    (r"^(why|when|where|who) (.+)$", ["i wonder {0} {1}", "please tell me {0} {1}"]),
)


def paraphrase(question: str, rng: random.Random) -> str:
    """A rule-based rewrite of an FAQ question: a question template swapped for another
    phrasing, then a few words swapped for synonyms."""
    text = question.strip().rstrip("?").strip()
    lowered = text[0].lower() + text[1:] if text else text
    for pattern, options in _TEMPLATES:
        match = re.match(pattern, lowered, re.I)
        if match:
            lowered = rng.choice(options).format(*match.groups())
            break
    else:
        lowered = f"question: {lowered}"
    words = lowered.split()
    swappable = [i for i, w in enumerate(words) if w.lower().strip(",.") in _SYNONYMS]
    for i in rng.sample(swappable, min(2, len(swappable))):
        words[i] = _SYNONYMS[words[i].lower().strip(",.")]
    return " ".join(words) + "?"


# -- CSV ----------------------------------------------------------------------------------


def read_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def write_csv(stream: Any, columns: Sequence[str], rows: Sequence[dict[str, str]]) -> None:
    writer = csv.DictWriter(stream, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)


def write_rows(path: Path, columns: Sequence[str], rows: Sequence[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        write_csv(stream, columns, rows)
