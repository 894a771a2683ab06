"""`helpdesk mail parse`: one JSON object per mail, exact keys, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from helpdesk_tools.mailcmd.parse import KEYS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mail"


def _helpdesk(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "helpdesk_tools.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_parsing_a_folder_prints_one_json_object_per_mail_with_exactly_the_keys(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "mails"
    shutil.copytree(FIXTURES, folder)
    (folder / "nested").mkdir()
    (folder / "nested" / "garbage.eml").write_bytes(b"\x00\xff not a mail at all")

    result = _helpdesk("mail", "parse", str(folder))

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    files = sorted(str(p) for p in folder.rglob("*") if p.is_file())
    assert [line["file"] for line in lines] == files
    assert all(list(line) == list(KEYS) for line in lines)
    by_name = {Path(line["file"]).name: line for line in lines}
    assert by_name["garbage.eml"]["outcome"] == "rejected"
    assert by_name["dsn-bounce.eml"]["outcome"] == "bounce"
    assert by_name["raw-koi8r-subject.eml"]["subject"] == "тест тест"
    assert by_name["rfc2231-names.eml"]["attachments"][0] == {
        "filename": "Rechnung März 2025.pdf",
        "content_type": "application/pdf",
        "size": 13,
    }
    assert isinstance(by_name["forwarded-rfc822.eml"]["references"], list)


def test_output_is_utf8_not_ascii_escapes() -> None:
    result = _helpdesk("mail", "parse", str(FIXTURES / "raw-koi8r-subject.eml"))

    assert result.returncode == 0
    assert "тест тест" in result.stdout


def test_a_path_that_does_not_exist_is_a_usage_error(tmp_path: Path) -> None:
    result = _helpdesk("mail", "parse", str(tmp_path / "missing.eml"))

    assert result.returncode == 2
    assert result.stdout == ""
    assert "missing.eml" in result.stderr
