"""`helpdesk bench mail` without a corpus: it says so and succeeds; no timing is asserted."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from helpdesk_tools.benchmarks.mail import corpus_root, run


def test_missing_corpus_is_reported_and_exits_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(argparse.Namespace(corpus=tmp_path / "nowhere", repeat=1, rounds=1))

    assert code == 0
    assert "corpus A not found" in capsys.readouterr().out


def test_corpus_location_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELPDESK_CORPUS", str(tmp_path))

    assert corpus_root(None) == tmp_path
    assert corpus_root(tmp_path / "explicit") == tmp_path / "explicit"
