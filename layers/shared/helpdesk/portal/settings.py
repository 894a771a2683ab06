"""The portal function's settings, composed from the shared pieces plus its own."""

from __future__ import annotations

from functools import cache

from pydantic import Field

from helpdesk.settings import EventSettings, MailSettings, TableSettings, load

DEFAULT_UPLOAD_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/zip",
    "application/json",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)


class PortalSettings(TableSettings, MailSettings, EventSettings):
    """What the portal function needs (HELPDESK_* variables)."""

    user_pool_id: str = ""
    user_pool_client_id: str = ""
    # NOTE: empty means derived: the local endpoint's Cognito when AWS_ENDPOINT_URL is set,
    # else the regional Cognito issuer. Set it to point at any other JWKS.
    jwks_url: str = ""
    region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    endpoint_url: str = Field(default="", validation_alias="AWS_ENDPOINT_URL")
    dev_login: bool = False
    session_secret: str = ""
    webhook_secret: str = ""
    public_url: str = "http://127.0.0.1:8000"
    secure_cookies: bool = True
    link_ttl_seconds: int = 15 * 60
    session_ttl_seconds: int = 8 * 60 * 60
    presence_ttl_seconds: int = 60
    upload_ttl_seconds: int = 15 * 60
    max_body_bytes: int = 256 * 1024
    upload_types: tuple[str, ...] = DEFAULT_UPLOAD_TYPES
    link_requests_per_hour: int = 5
    link_requests_per_hour_per_source: int = 30
    webhook_requests_per_minute: int = 120
    webhook_max_age_seconds: int = 300
    queue_scan_limit: int = 5000

    @property
    def signing_secret(self) -> str:
        """The secret that signs sessions, links and cursors (falls back to token_secret)."""
        return self.session_secret or self.token_secret

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def resolved_jwks_url(self) -> str:
        """Where the agents' signing keys are published."""
        if self.jwks_url:
            return self.jwks_url
        if self.endpoint_url:
            return f"{self.endpoint_url.rstrip('/')}/{self.user_pool_id}/.well-known/jwks.json"
        return f"{self.issuer}/.well-known/jwks.json"


@cache
def portal_settings() -> PortalSettings:
    """The settings, validated once; raises ConfigurationError naming a missing variable."""
    return load(PortalSettings)
