"""The customer portal's look and reach: the configured brand, accessible forms and
landmarks, and a visible keyboard focus."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.browser.support import Desk, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UNLABELLED_CONTROLS = """() => [...document.querySelectorAll("input, select, textarea, button")]
    .filter((node) => node.offsetParent !== null && node.type !== "hidden")
    .filter((node) => !(node.labels && node.labels.length) && !node.getAttribute("aria-label")
        && !(node.tagName === "BUTTON" && node.textContent.trim()))
    .map((node) => node.outerHTML.slice(0, 80))"""


@pytest.fixture
def acme_brand(desk: Desk, seeded: dict[str, Any]) -> Iterator[dict[str, str]]:
    """The desk branded as Acme for one test, then back to the defaults."""
    brand = {
        "id": "default",
        "brand_name": "Acme Support",
        "primary_colour": "#7a1f5c",
        "accent_colour": "#0b7a5c",
    }
    desk.ok("PUT", "api/admin/branding/default", brand, token=seeded["admin_token"])
    yield brand
    desk.ok("DELETE", "api/admin/branding/default", token=seeded["admin_token"])


def test_the_portal_shows_the_configured_brand_name_and_colours(
    desk: Desk, acme_brand: dict[str, str], open_page: Any
) -> None:
    from playwright.sync_api import expect

    page, watch = open_page(desk.portal_url)
    banner = page.get_by_role("banner")
    expect(banner.get_by_role("link", name="Acme Support")).to_be_visible()
    expect(page).to_have_title("Acme Support \N{EN DASH} Support")
    background = banner.evaluate("node => getComputedStyle(node).backgroundColor")
    assert background == "rgb(122, 31, 92)"
    button = page.get_by_role("button", name="Email me a sign-in link")
    assert button.evaluate("node => getComputedStyle(node).backgroundColor") == background
    screenshot(page, "portal-6-brand")
    assert not watch.errors, watch.errors


def test_the_portal_has_landmarks_labels_and_a_visible_focus(desk: Desk, open_page: Any) -> None:
    from playwright.sync_api import expect

    page, watch = open_page(desk.portal_url)
    expect(page.get_by_label("Email address")).to_be_visible()

    # Landmarks and one heading to start from
    for role in ("banner", "main", "contentinfo"):
        expect(page.get_by_role(role)).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_count(1)
    assert page.evaluate("document.documentElement.lang") == "en"

    # Every visible control has a name
    assert page.evaluate(UNLABELLED_CONTROLS) == []

    # The first Tab reaches the skip link, which becomes visible, with an outline
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.get_by_label("Email address").focus()
    page.keyboard.press("Tab")
    focused = page.get_by_role("button", name="Email me a sign-in link")
    expect(focused).to_be_focused()
    assert focused.evaluate("node => getComputedStyle(node).outlineStyle") == "solid"

    # An invalid address is announced next to its field, not as a dialog
    page.get_by_label("Email address").fill("not-an-address")
    focused.click()
    error = page.locator("#signin-error")
    expect(error).to_contain_text("Enter an email address")
    expect(page.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")
    assert not watch.dialogs and not watch.errors


def test_the_workspace_controls_all_have_names(
    desk: Desk, seeded: dict[str, Any], open_page: Any
) -> None:
    from playwright.sync_api import expect

    from tests.e2e.browser.support import sign_in_agent

    customer = desk.customer_token("named-controls@example.org")
    body = {"subject": "Controls check", "text": "Hello"}
    number = desk.ok("POST", "api/portal/tickets", body, token=customer)["ticket"]["number"]
    page, _ = open_page(f"{desk.agent_url}#/tickets/{number}")
    sign_in_agent(page, seeded["agent_id"])
    expect(page.locator("#ticket-title")).to_contain_text(f"#{number} ")
    assert page.evaluate(UNLABELLED_CONTROLS) == []
    expect(page.get_by_role("banner")).to_have_count(1)
    expect(page.get_by_role("main")).to_have_count(1)
    expect(page.get_by_role("search", name="Queue filters")).to_be_visible()
