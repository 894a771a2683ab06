"""The triage function's settings: backends, the LLM, and the grouping thresholds.

Thresholds live here, not in code, because a threshold tuned on one data set moves on another.
The defaults were chosen on the data named beside them (see docs/ai.md for the figures).
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from helpdesk.settings import EventSettings, MailSettings, TableSettings, load


class TriageSettings(TableSettings, MailSettings, EventSettings):
    """What the triage function needs (HELPDESK_ prefix on every variable)."""

    embedding_backend: Literal["onnx", "bedrock"] = "onnx"
    similarity_backend: Literal["embedded", "opensearch"] = "embedded"
    index_key: str = "ai/index/tickets-v1.npz"
    opensearch_endpoint: str = ""
    opensearch_service: Literal["es", "aoss"] = "aoss"
    opensearch_index: str = "helpdesk-tickets"
    llm_provider: Literal["local", "anthropic", "bedrock"] = "local"
    llm_model: str = "claude-haiku-4-5"
    llm_secret_arn: str = ""
    llm_timeout_seconds: float = 15.0
    # Which tickets are candidates: open or pending, created within the last N days.
    similar_window_days: int = 14
    similar_k: int = 5
    similar_min_score: float = 0.5
    # Weight of the subject's own embedding in the search vector (chosen on SeaMonkey).
    subject_weight: float = 0.5
    # Merge: the same requester, near-identical text, within a short window.
    merge_threshold: float = 0.95
    merge_window_hours: float = 24.0
    # Incident: different requesters, within a short window, similar text plus one more signal.
    incident_threshold: float = 0.7
    incident_window_hours: float = 4.0
    incident_requester: str = ""


@cache
def triage_settings() -> TriageSettings:
    """The settings, validated on first use; raises ConfigurationError naming the variable."""
    return load(TriageSettings)
