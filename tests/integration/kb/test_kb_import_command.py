"""`helpdesk kb import` into a table on the local endpoint (moto)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from helpdesk.kb.models import Audience, Visibility
from helpdesk.kb.repository import ArticleRepository
from helpdesk.kb.service import KnowledgeBase
from helpdesk_tools.cli import main


def test_a_folder_of_articles_is_imported_and_searchable(
    table: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "vpn.md").write_text(
        "---\nvisibility: internal\ntags: it\n---\n# Office VPN\n\nUse the WireGuard profile.\n",
        encoding="utf-8",
    )
    (tmp_path / "returns.html").write_text(
        "<h1>Returns</h1><p>Send items back within 30 days.</p>", encoding="utf-8"
    )

    code = main(["kb", "import", "--folder", str(tmp_path), "--table", table.name, "--no-embed"])

    assert code == 0
    assert "created 2, updated 0, unchanged 0, failed 0" in capsys.readouterr().out
    kb = KnowledgeBase(ArticleRepository(table))
    assert kb.get("vpn", audience=Audience.AGENT).visibility == Visibility.INTERNAL
    assert [hit.id for hit in kb.search("send back items", audience=Audience.CUSTOMER)] == [
        "returns"
    ]


def test_a_csv_with_a_bad_row_imports_nothing_and_says_why(
    table: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "kb.csv").write_text("id,title\nx,no body column\n", encoding="utf-8")

    code = main(["kb", "import", "--csv", str(tmp_path / "kb.csv"), "--table", table.name])

    assert code == 1
    assert "lacks columns: body" in capsys.readouterr().err
