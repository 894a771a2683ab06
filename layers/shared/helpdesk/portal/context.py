"""The portal's collaborators, built lazily once per process from settings and clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Any
from urllib.parse import urlsplit

from helpdesk.data import clients
from helpdesk.data.config import ConfigRepository
from helpdesk.data.tickets import TicketRepository
from helpdesk.portal.security import AgentTokenVerifier, CursorSigner, CustomerTokens
from helpdesk.portal.settings import PortalSettings, portal_settings
from helpdesk.portal.store import PortalStore


@dataclass
class Portal:
    """Everything a portal service needs; repositories share one Table resource."""

    settings: PortalSettings
    table: Any
    _clients: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def tickets(self) -> TicketRepository:
        return TicketRepository(self.table)

    @cached_property
    def config(self) -> ConfigRepository:
        return ConfigRepository(self.table)

    @cached_property
    def store(self) -> PortalStore:
        return PortalStore(self.table)

    @cached_property
    def cursors(self) -> CursorSigner:
        return CursorSigner(self.settings.signing_secret)

    @cached_property
    def customer_tokens(self) -> CustomerTokens:
        return CustomerTokens(self.settings.signing_secret)

    @cached_property
    def agent_tokens(self) -> AgentTokenVerifier:
        return AgentTokenVerifier(
            self.settings.resolved_jwks_url,
            issuer=self.settings.issuer,
            audience=self.settings.user_pool_client_id,
        )

    @cached_property
    def upload_origin(self) -> str | None:
        """The origin the browser posts pre-signed uploads to (the attachment bucket's), or
        None when it cannot be worked out (no credentials); computed without a request."""
        try:
            post = self.client("s3").generate_presigned_post(
                Bucket=self.settings.attachment_bucket, Key="origin-probe", ExpiresIn=60
            )
        except Exception:  # no credentials or region: uploads then fail anyway
            return None
        parts = urlsplit(post["url"])
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None

    def client(self, service: str) -> Any:
        """A boto3 client, created on first use."""
        if service not in self._clients:
            self._clients[service] = clients.client(service)
        return self._clients[service]


@cache
def portal() -> Portal:
    """The process's portal context; raises ConfigurationError for missing settings."""
    settings = portal_settings()
    return Portal(settings=settings, table=clients.table(settings.table))


def reset() -> None:
    """Forget the cached settings, clients and context (after the environment changed)."""
    portal.cache_clear()
    portal_settings.cache_clear()
    clients.client.cache_clear()
    clients.table.cache_clear()
    clients.session.cache_clear()
