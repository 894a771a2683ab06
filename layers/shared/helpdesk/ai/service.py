"""Wiring for the triage function: build the pipeline from settings once per container, and
run a stream batch through it with partial batch responses.

The embedding model, the index and the triager are built on the first batch and kept for the
container's life; the embedded index is refreshed from S3 before each batch and saved after.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from pydantic import BaseModel, ConfigDict

from helpdesk.ai.embed import embedder_from_settings
from helpdesk.ai.grouping import Thresholds
from helpdesk.ai.index import PersistentIndex, S3IndexStore
from helpdesk.ai.pipeline import Pipeline
from helpdesk.ai.settings import TriageSettings, triage_settings
from helpdesk.ai.triage import (
    ClaudeTriager,
    LocalTriager,
    TriageConfig,
    Triager,
    api_key_from_secret,
    claude_client,
)
from helpdesk.data import clients
from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.events import EventPublisher
from helpdesk.exceptions import NotFoundError

logger = logging.getLogger(__name__)

CONFIG_KIND = "ai"
CONFIG_ID = "triage"


def thresholds_from(settings: TriageSettings) -> Thresholds:
    """The grouping thresholds named in the settings."""
    return Thresholds(
        merge_threshold=settings.merge_threshold,
        merge_window=timedelta(hours=settings.merge_window_hours),
        incident_threshold=settings.incident_threshold,
        incident_window=timedelta(hours=settings.incident_window_hours),
        similar_min_score=settings.similar_min_score,
        similar_k=settings.similar_k,
    )


class _AdminCategory(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    team: str | None = None


class _AdminRoute(BaseModel):
    model_config = ConfigDict(extra="ignore")

    order: int = 100
    category: str | None = None
    channel: str | None = None
    requester_domain: str | None = None
    subject_contains: str | None = None
    team: str


def load_triage_config(table: Any) -> TriageConfig:
    """The desk's triage configuration (CONFIG#ai / triage), or an empty one, with the
    categories and routing an admin manages in the portal merged in (the admin's word wins):
    each admin category is allowed, a category's own team routes it, and a routing rule that
    names only a category routes it too."""
    config_repository = ConfigRepository(table)
    try:
        config = config_repository.get(CONFIG_KIND, CONFIG_ID, TriageConfig)
    except NotFoundError:
        logger.info("no triage configuration; categories will be 'other'")
        config = TriageConfig()
    categories = config_repository.list("categories", _AdminCategory)
    routes = sorted(config_repository.list("routing", _AdminRoute), key=lambda r: r.order)
    if not categories and not routes:
        return config
    names = list(config.categories)
    routing = dict(config.routing)
    for category in categories:
        if category.id not in names:
            names.append(category.id)
        if category.team:
            routing[category.id] = category.team
    for route in reversed(routes):  # the first rule in order wins
        only_category = not (route.channel or route.requester_domain or route.subject_contains)
        if route.category and only_category:
            routing[route.category] = route.team
    if names and not config.categories:
        names = sorted({*names, *(example.category for example in config.examples)})
    return config.model_copy(update={"categories": names, "routing": routing})


def build_triager(settings: TriageSettings, config: TriageConfig, embedder: Any) -> Triager:
    """The local triager, wrapped by Claude when an LLM provider is configured."""
    local = LocalTriager(embedder, config)
    if settings.llm_provider == "local":
        return local
    api_key = None
    if settings.llm_provider == "anthropic":
        api_key = api_key_from_secret(clients.client("secretsmanager"), settings.llm_secret_arn)
    client = claude_client(
        settings.llm_provider, api_key=api_key, timeout=settings.llm_timeout_seconds
    )
    return ClaudeTriager(
        client, config, local, model=settings.llm_model, timeout=settings.llm_timeout_seconds
    )


def build_index(settings: TriageSettings, dimension: int) -> Any:
    """The similarity index named by HELPDESK_SIMILARITY_BACKEND."""
    if settings.similarity_backend == "opensearch":
        from helpdesk.ai.opensearch import OpenSearchIndex, opensearch_client

        client = opensearch_client(
            settings.opensearch_endpoint,
            service=settings.opensearch_service,
            region=clients.session().region_name or "us-east-1",
            credentials=clients.session().get_credentials(),
        )
        index = OpenSearchIndex(client, settings.opensearch_index, dimension)
        index.ensure_index()
        return index
    store = S3IndexStore(clients.client("s3"), settings.attachment_bucket, settings.index_key)
    return PersistentIndex(store, dimension)


@cache
def build_pipeline() -> Pipeline:
    """The container's pipeline, from the environment; raises ConfigurationError."""
    settings = triage_settings()
    table = clients.table(settings.table)
    bedrock = clients.client("bedrock-runtime") if settings.embedding_backend == "bedrock" else None
    embedder = embedder_from_settings(settings.embedding_backend, bedrock_client=bedrock)
    config = load_triage_config(table)
    return Pipeline(
        tickets=TicketRepository(table),
        index=build_index(settings, embedder.dimension),
        embedder=embedder,
        triager=build_triager(settings, config, embedder),
        publisher=EventPublisher(clients.client("events"), settings.event_bus),
        thresholds=thresholds_from(settings),
        window=timedelta(days=settings.similar_window_days),
        incident_requester=settings.incident_requester or settings.support_address,
        vip=config.is_vip,
        subject_weight=settings.subject_weight,
        responder=_responder(table, settings, embedder),
    )


def _responder(table: Any, settings: Any, embedder: Any) -> Any:
    """The KB first responder sharing the pipeline's embedder, or None when it cannot be
    built (then tickets simply go to a person)."""
    try:
        from helpdesk.kb.factory import responder_service

        return responder_service(table, settings, embedder=embedder)
    except Exception:  # a desk without a usable KB configuration still triages
        logger.exception("first responder unavailable")
        return None


def handle_batch(
    event: dict[str, Any], context: Any, *, now: datetime, pipeline: Pipeline | None = None
) -> dict[str, Any]:
    """Run one DynamoDB stream batch; returns the partial batch response
    (`batchItemFailures` names each failed record's sequence number)."""
    pipeline = pipeline or build_pipeline()
    refresh = getattr(pipeline.index, "refresh", None)
    if refresh is not None:
        refresh()

    def record_handler(record: DynamoDBRecord) -> str:
        return pipeline.process_record(record.raw_event, now=now)

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    flush = getattr(pipeline.index, "flush", None)
    if flush is not None:
        flush(pipeline.open_filters(now))
    return dict(response)
