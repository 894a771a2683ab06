"""Settings, composed from small pieces; each function validates its own on first use."""

from __future__ import annotations

import os
from functools import cache

from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from helpdesk.exceptions import ConfigurationError


class _Base(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HELPDESK_", extra="ignore", frozen=True)


class TableSettings(_Base):
    table: str


class MailSettings(_Base):
    mail_bucket: str
    attachment_bucket: str
    mail_domain: str = "example.com"
    support_address: str = "support@example.com"
    outbound_queue: str = ""
    send_acknowledgement: bool = True
    reopen_solved_on_reply: bool = True
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_attachments: int = 20
    auto_reply_limit_per_hour: int = 5
    token_secret: str = "local-development-secret"
    mail_prefix: str = "inbound/"
    support_name: str = "Support"
    max_send_attempts: int = 5


class EventSettings(_Base):
    event_bus: str = "default"


class IngestSettings(TableSettings, MailSettings, EventSettings):
    """What the ingest function needs."""


class SenderSettings(TableSettings, MailSettings):
    """What the outbound sender function needs."""


# Defaults that only a desk on one machine may run with; in Lambda they would let anyone who
# reads this source forge ticket tokens, customer sessions or webhook signatures.
LOCAL_SECRETS = frozenset({"local-development-secret", "local-webhook-secret", ""})


def running_in_lambda() -> bool:
    """True inside AWS Lambda (the runtime sets AWS_LAMBDA_FUNCTION_NAME), not locally."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and os.environ.get(
        "HELPDESK_LOCAL", ""
    ).lower() not in {"1", "true"}


def refuse_local_secrets(settings: BaseSettings) -> None:
    """Raise ConfigurationError when a secret still has a local default inside Lambda."""
    if not running_in_lambda():
        return
    for name in type(settings).model_fields:
        if not name.endswith("_secret") or name == "session_secret":
            continue
        if getattr(settings, name) in LOCAL_SECRETS:
            raise ConfigurationError(
                f"HELPDESK_{name.upper()} must be set to a secret of your own in AWS "
                "(the template's secret parameters)"
            )


def load[T: BaseSettings](kind: type[T]) -> T:
    """Build settings of `kind` from the environment; raises ConfigurationError naming the
    missing or malformed variable, or a secret left at its local default inside Lambda."""
    try:
        settings = kind()
    except PydanticValidationError as error:
        names = ", ".join(
            f"HELPDESK_{str(detail['loc'][0]).upper()}"
            for detail in error.errors()
            if detail["loc"]
        )
        raise ConfigurationError(f"missing or invalid setting: {names}") from error
    refuse_local_secrets(settings)
    return settings


@cache
def ingest_settings() -> IngestSettings:
    return load(IngestSettings)


@cache
def sender_settings() -> SenderSettings:
    return load(SenderSettings)


class AutomationSettings(TableSettings, MailSettings, EventSettings):
    """What the automation function (rules and report counters) needs."""

    webhook_secret: str = "local-webhook-secret"


@cache
def automation_settings() -> AutomationSettings:
    return load(AutomationSettings)
