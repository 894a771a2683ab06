"""Categories and routing an admin sets in the portal take effect in triage."""

from __future__ import annotations

from typing import Any

from helpdesk.ai.service import CONFIG_ID, CONFIG_KIND, load_triage_config
from helpdesk.ai.triage import Example, TriageConfig
from helpdesk.data.config import ConfigRepository
from helpdesk.portal.schemas import Category, RoutingRule


def test_admin_categories_and_category_routes_join_the_triage_configuration(table: Any) -> None:
    config = ConfigRepository(table)
    config.put(
        CONFIG_KIND,
        CONFIG_ID,
        TriageConfig(
            routing={"billing": "front-desk"},
            examples=[Example(text="charged twice", category="billing")],
        ),
    )
    config.put("categories", "billing", Category(id="billing", name="Billing", team="finance"))
    config.put("categories", "refunds", Category(id="refunds", name="Refunds"))
    config.put("routing", "r1", RoutingRule(id="r1", order=1, category="refunds", team="returns"))
    config.put(
        "routing",
        "r2",
        RoutingRule(id="r2", order=2, category="refunds", channel="chat", team="chat-desk"),
    )

    merged = load_triage_config(table)

    assert merged.team_for("billing") == "finance"
    assert merged.team_for("refunds") == "returns"
    assert set(merged.allowed_categories()) >= {"billing", "refunds", "other"}


def test_without_admin_settings_the_triage_configuration_is_unchanged(table: Any) -> None:
    original = TriageConfig(categories=["login"], routing={"login": "accounts"})
    ConfigRepository(table).put(CONFIG_KIND, CONFIG_ID, original)

    assert load_triage_config(table) == original
