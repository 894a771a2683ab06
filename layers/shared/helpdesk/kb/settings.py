"""Knowledge-base and first-responder settings (HELPDESK_ variables), with the thresholds.

The thresholds were chosen on the COVID FAQ evaluation (`helpdesk eval kb --dataset covid`)
and checked on Bitext; a threshold tuned on one data set moves on another, so keep them here,
in configuration, and re-run the evaluation on your own KB.
"""

from __future__ import annotations

from functools import cache

from pydantic_settings import BaseSettings, SettingsConfigDict

from helpdesk.settings import load


class KbSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_", extra="ignore", frozen=True)

    # Where article links point: the help-centre base, made absolute with the portal's public
    # URL (HELPDESK_PUBLIC_URL, the same variable the portal reads) for links in mail.
    kb_base_url: str = "/help/articles"
    public_url: str = ""
    # Hybrid search: answer when the best article's cosine and its gap clear these.
    kb_min_score: float = 0.5
    kb_min_gap: float = 0.1
    # Keyword-only (no embedder): BM25 confidence and its gap.
    kb_keyword_min_score: float = 0.3
    kb_keyword_min_gap: float = 0.05
    # The portal answers suggestions from BM25 at once, and runs semantic search only when
    # this is on and the embedder can be loaded in the portal function.
    kb_semantic_portal: bool = True
    embedding_backend: str = "onnx"


@cache
def kb_settings() -> KbSettings:
    return load(KbSettings)
