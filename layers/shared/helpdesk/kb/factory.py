"""Wiring: the knowledge base and the first responder, built once per container from settings.

The portal builds its `KnowledgeBase` with a lazy embedder source: the keyword path never
imports onnxruntime, and the model loads only on the first semantic query or article write (or
never, where the portal function is packaged without it: then search is BM25 only and articles
are stored without vectors, which the triage function embeds when it builds its own index).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from helpdesk.data import clients
from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.kb.answer import Answerer, ClaudeAnswerer, LocalAnswerer
from helpdesk.kb.confirm import AnswerRecords
from helpdesk.kb.repository import ArticleRepository
from helpdesk.kb.responder import ResponderService, load_policy
from helpdesk.kb.service import KnowledgeBase
from helpdesk.kb.settings import KbSettings, kb_settings

if TYPE_CHECKING:
    from helpdesk.ai.embed import Embedder
    from helpdesk.ai.settings import TriageSettings

logger = logging.getLogger(__name__)

_bases: dict[str, KnowledgeBase] = {}
_lock = threading.Lock()


def lazy_embedder(settings: KbSettings) -> Callable[[], Embedder | None]:
    """A source that builds the configured embedder on first call (None when it cannot be
    had here, e.g. the model is not packaged with this function); logged once."""
    state: dict[str, Any] = {}

    def source() -> Embedder | None:
        if "embedder" not in state:
            try:
                from helpdesk.ai.embed import embedder_from_settings

                bedrock = (
                    clients.client("bedrock-runtime")
                    if settings.embedding_backend == "bedrock"
                    else None
                )
                state["embedder"] = embedder_from_settings(
                    settings.embedding_backend, bedrock_client=bedrock
                )
            except Exception:  # no model here: keyword search only, said once
                logger.warning("no embedder in this function; keyword search only", exc_info=True)
                state["embedder"] = None
        return state["embedder"]

    return source


def embedder_loaded() -> bool:
    """True when the ONNX model is in memory already, so that instant suggestions may use it
    without paying for a load."""
    import sys

    if "helpdesk.ai.embed" not in sys.modules:
        return False
    from helpdesk.ai.embed import shared_onnx_embedder

    return shared_onnx_embedder().loaded


def knowledge_base(table: Any, settings: KbSettings | None = None) -> KnowledgeBase:
    """The process's KnowledgeBase over `table` (one per table name)."""
    settings = settings or kb_settings()
    with _lock:
        found = _bases.get(table.name)
        if found is None:
            source = lazy_embedder(settings) if settings.kb_semantic_portal else None
            found = _bases[table.name] = KnowledgeBase(
                ArticleRepository(table), embedder=source, base_url=public_base(settings)
            )
        return found


def public_base(settings: KbSettings) -> str:
    """The articles' base URL: absolute when the portal's URL is known."""
    base = settings.kb_base_url
    if base.startswith("/") and settings.public_url:
        return settings.public_url.rstrip("/") + base
    return base


def responder_service(
    table: Any,
    settings: TriageSettings,
    *,
    embedder: Embedder,
    answerer: Answerer | None = None,
    outbound: Any = None,
) -> ResponderService:
    """The first responder for the triage function: its KB shares the pipeline's embedder,
    its answers are Claude's when an LLM provider is configured (local excerpts otherwise),
    and email answers go out through the outbound queue when one is configured."""
    kb = KnowledgeBase(
        ArticleRepository(table), embedder=lambda: embedder, base_url=public_base(kb_settings())
    )
    if outbound is None and settings.outbound_queue:
        from helpdesk.mail.outbound import OutboundQueue

        outbound = OutboundQueue(clients.client("sqs"), settings.outbound_queue)
    from helpdesk.mail.ratelimit import AutoMailLimiter

    return ResponderService(
        tickets=TicketRepository(table),
        kb=kb,
        records=AnswerRecords(table),
        answerer=answerer or answerer_from(settings),
        policy=load_policy(ConfigRepository(table)),
        settings=kb_settings(),
        mail=settings,
        outbound=outbound,
        limiter=AutoMailLimiter(table, settings.auto_reply_limit_per_hour),
    )


def answerer_from(settings: TriageSettings) -> Answerer:
    """Claude (API key from Secrets Manager, or Bedrock) or the local excerpt answerer."""
    if settings.llm_provider == "local":
        return LocalAnswerer()
    from helpdesk.ai.triage import api_key_from_secret, claude_client

    api_key = None
    if settings.llm_provider == "anthropic":
        api_key = api_key_from_secret(clients.client("secretsmanager"), settings.llm_secret_arn)
    client = claude_client(
        settings.llm_provider, api_key=api_key, timeout=settings.llm_timeout_seconds
    )
    return ClaudeAnswerer(client, model=settings.llm_model, timeout=settings.llm_timeout_seconds)
