"""SLA policies: which tickets they match, their targets per priority, and their escalations.

Policies are kept in order (`position`, then id); the first whose conditions all hold applies.
A condition left empty matches anything. Targets are minutes, per priority or one set for all,
and each counts business minutes of the policy's calendar or plain calendar minutes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from helpdesk.domain.models import Channel, Priority

TARGETS: tuple[str, ...] = ("first_response", "next_response", "resolution")
TargetName = Literal["first_response", "next_response", "resolution"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Model):
    """One target: minutes, and whether they are business minutes (None: the policy decides)."""

    minutes: int = Field(gt=0)
    business_hours: bool | None = None


class Targets(_Model):
    """The three targets of one priority; a target left out is not measured against."""

    first_response: int | Target | None = None
    next_response: int | Target | None = None
    resolution: int | Target | None = None

    def target(self, name: str, *, business_hours: bool) -> Target | None:
        """The named target as a Target with its measure decided, or None when it is absent."""
        value = getattr(self, name)
        if value is None:
            return None
        if isinstance(value, int):
            if value <= 0:
                raise ValueError("a target must be a positive number of minutes")
            return Target(minutes=value, business_hours=business_hours)
        if value.business_hours is None:
            return value.model_copy(update={"business_hours": business_hours})
        return value

    @field_validator("first_response", "next_response", "resolution")
    @classmethod
    def _positive(cls, value: int | Target | None) -> int | Target | None:
        if isinstance(value, int) and value <= 0:
            raise ValueError("a target must be a positive number of minutes")
        return value


class Conditions(_Model):
    """What a ticket must have for the policy to apply; an empty list matches anything."""

    priorities: list[Priority] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    organisations: list[str] = Field(default_factory=list)
    tiers: list[str] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)

    def matches(self, attributes: TicketAttributes) -> bool:
        """True when every non-empty condition holds for `attributes`."""
        checks: list[tuple[Sequence[object], object]] = [
            (self.priorities, attributes.priority),
            (self.categories, attributes.category),
            (self.teams, attributes.team),
            (self.organisations, attributes.organisation),
            (self.tiers, attributes.tier),
            (self.channels, attributes.channel),
        ]
        return all(not allowed or value in allowed for allowed, value in checks)


class Webhook(_Model):
    """A Slack-style incoming webhook; `secret` names the key that signs the body."""

    url: HttpUrl
    secret: str = "default"


class Escalation(_Model):
    """What to do when a target warns or breaches."""

    on: Literal["warning", "breach"] = "breach"
    targets: list[TargetName] = Field(default_factory=lambda: list(TARGETS))  # type: ignore[arg-type]
    raise_priority: Priority | Literal["one_step"] | None = None
    assign_team: str | None = None
    assign_agent: str | None = None
    notify_emails: list[str] = Field(default_factory=list)
    webhooks: list[Webhook] = Field(default_factory=list)
    within_hours: bool = False

    def applies(self, kind: str, target: str) -> bool:
        """True for a `kind` (warning or breach) of a `target` this escalation covers."""
        return self.on == kind and target in self.targets


class SlaPolicy(_Model):
    """A service level: conditions, targets per priority, warning fraction, escalations."""

    id: str = "default"
    name: str = ""
    position: int = 0
    conditions: Conditions = Field(default_factory=Conditions)
    business_hours: bool = True
    calendar_id: str | None = None
    warn_at: float = Field(default=0.75, gt=0, lt=1)
    targets: dict[Priority, Targets] | Targets = Field(default_factory=Targets)
    escalations: list[Escalation] = Field(default_factory=list)

    def targets_for(self, priority: Priority) -> dict[str, Target | None]:
        """Each target name with its Target for `priority`, or None where none is set."""
        chosen = self.targets if isinstance(self.targets, Targets) else self.targets.get(priority)
        if chosen is None:
            return dict.fromkeys(TARGETS)
        return {name: chosen.target(name, business_hours=self.business_hours) for name in TARGETS}


@dataclass(frozen=True)
class TicketAttributes:
    """What policies match on, as of one moment of a ticket's history."""

    priority: Priority = Priority.NORMAL
    category: str | None = None
    team: str | None = None
    organisation: str | None = None
    tier: str | None = None
    channel: Channel | None = None


def ordered(policies: Iterable[SlaPolicy]) -> list[SlaPolicy]:
    """Policies in the order they are tried: by position, then id."""
    return sorted(policies, key=lambda policy: (policy.position, policy.id))


def matching_policy(
    policies: Iterable[SlaPolicy], attributes: TicketAttributes
) -> SlaPolicy | None:
    """The first policy, in order, whose conditions hold for `attributes`; None if none does."""
    for policy in ordered(policies):
        if policy.conditions.matches(attributes):
            return policy
    return None
