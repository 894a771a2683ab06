"""All of corpus A through the ingest handler against moto: nothing raises, nothing is lost."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from helpdesk_tools.ingest_desk import LocalIngestDesk, mail_files, reset_cached_wiring

NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)
KEPT = {"created", "joined", "follow_up", "suspended", "noted", "duplicate"}


@pytest.mark.corpus
@pytest.mark.slow
def test_every_mail_of_corpus_a_becomes_a_ticket_a_message_or_a_logged_rejection(
    desk: LocalIngestDesk,
    corpus: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("HELPDESK_SEND_ACKNOWLEDGEMENT", "false")
    reset_cached_wiring()
    files = mail_files([corpus / "A"])
    assert len(files) == 498
    per_folder: dict[str, Counter[str]] = {}

    with caplog.at_level(logging.WARNING, logger="helpdesk"):
        for path in files:
            (result,) = desk.deliver(path.read_bytes(), received_at=NOW)
            folder = path.relative_to(corpus / "A").parts[0]
            label = (
                result["outcome"] if result["disposition"] == "rejected" else result["disposition"]
            )
            per_folder.setdefault(folder, Counter())[label] += 1
            if result["disposition"] == "rejected":
                assert result["reason"], path
            else:
                assert result["disposition"] in KEPT, (path, result)
                assert result["ticket_number"] is not None, path

    rejected = sum(c[k] for c in per_folder.values() for k in c if k not in KEPT)
    logged = [r for r in caplog.records if r.getMessage() == "mail not turned into a message"]
    assert len(logged) == rejected
    stored = desk.s3.list_objects_v2(Bucket=desk.stack.buckets["MailBucket"], Prefix="inbound/")
    keys = stored.get("KeyCount", 0)
    while stored.get("IsTruncated"):
        stored = desk.s3.list_objects_v2(
            Bucket=desk.stack.buckets["MailBucket"],
            Prefix="inbound/",
            ContinuationToken=stored["NextContinuationToken"],
        )
        keys += stored.get("KeyCount", 0)
    assert keys == len(files)
    print({folder: dict(counts) for folder, counts in sorted(per_folder.items())})
