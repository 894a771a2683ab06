"""`helpdesk eval kb` on small CSVs written here, and the corpus data sets it derives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpdesk_tools.cli import main
from helpdesk_tools.evaluation import kb as kb_eval

KB = (
    "id,title,body\n"
    "reset-password,How to reset your password,Click Forgot password on the sign-in page.\n"
    "refund-policy,Refund policy,Return any item within 30 days for a full refund.\n"
    "shipping-times,Shipping times,Parcels arrive in three to five working days.\n"
)
QUESTIONS = (
    "question,expected_article_id\n"
    "I forgot my password and cannot log in,reset-password\n"
    "can I get my money back for a purchase,refund-policy\n"
    "when will my parcel arrive,shipping-times\n"
    "do you sell gift cards,\n"
)


def test_the_eval_reports_both_methods_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "kb.csv").write_text(KB, encoding="utf-8")
    (tmp_path / "q.csv").write_text(QUESTIONS, encoding="utf-8")
    paths = ["--kb", str(tmp_path / "kb.csv"), "--questions", str(tmp_path / "q.csv")]

    table_code = main(["eval", "kb", *paths])
    table = capsys.readouterr().out
    json_code = main(["eval", "kb", *paths, "--json"])
    figures = json.loads(capsys.readouterr().out)

    assert (table_code, json_code) == (0, 0)
    assert "knowledge base: 3 articles; questions: 4" in table
    assert "keyword only (BM25)" in table and "hybrid (BM25 + MiniLM, RRF)" in table
    hybrid = figures["hybrid (BM25 + MiniLM, RRF)"]
    assert hybrid["questions"] == 4 and hybrid["in_scope"] == 3
    assert hybrid["recall_at_1"] == 1.0
    assert set(figures["keyword only (BM25)"]) == set(hybrid)


def test_figures_count_answers_by_the_thresholds() -> None:
    outcomes = [
        kb_eval.Outcome("a", "a", 0.9, 0.3),  # answered, right
        kb_eval.Outcome("b", "c", 0.8, 0.2),  # answered, wrong
        kb_eval.Outcome("d", "d", 0.4, 0.3),  # below the score: not answered
        kb_eval.Outcome("", "a", 0.9, 0.01),  # out of scope, gap too small: not answered
    ]

    figures = kb_eval.figures(outcomes, 0.5, 0.1)

    assert figures.coverage == 0.5
    assert figures.precision == 0.5
    assert figures.auto_resolution == 0.25
    assert figures.out_of_scope_answered == 0.0
    assert figures.recall_at_1 == pytest.approx(2 / 3)


def test_the_covid_and_bitext_sets_hold_out_articles_as_unanswerable(corpus: Path) -> None:
    covid_kb, covid_questions = kb_eval.covid(corpus)
    bitext_kb, bitext_questions = kb_eval.bitext(corpus)

    covid_ids = {row["id"] for row in covid_kb}
    expected = {q["expected_article_id"] for q in covid_questions} - {""}
    assert expected <= covid_ids
    assert sum(1 for q in covid_questions if not q["expected_article_id"]) > 100
    assert len(bitext_kb) == 23
    assert {q["expected_article_id"] for q in bitext_questions} - {""} <= {
        r["id"] for r in bitext_kb
    }
    titles = {row["title"] for row in covid_kb}
    assert not any(q["question"] in titles for q in covid_questions)  # every question rewritten
