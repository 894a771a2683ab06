"""The customer portal's look and reach: the configured brand, accessible forms and
landmarks, and a visible keyboard focus."""

from __future__ import annotations

import re
import uuid
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


def test_a_used_sign_in_link_is_refused_with_a_way_forward(desk: Desk, open_page: Any) -> None:
    from playwright.sync_api import expect

    email = f"twice-{uuid.uuid4().hex[:6]}@example.org"
    desk.ok("POST", "api/auth/link", {"email": email})
    link = desk.login_link(email)
    first, _ = open_page(link)
    expect(first.get_by_role("heading", name="My requests")).to_be_visible()

    # WHEN the same link is opened again, in another browser
    again, watch = open_page(link)

    # THEN it is refused, the sign-in form is offered, and the token left the address bar
    expect(again.get_by_role("status")).to_contain_text("expired or was already used")
    expect(again.get_by_label("Email address")).to_be_visible()
    assert "login=" not in again.url
    assert not watch.errors, watch.errors


def test_the_customer_marks_a_request_solved_and_is_asked_to_rate(
    desk: Desk, open_page: Any
) -> None:
    from playwright.sync_api import expect

    email = f"solver-{uuid.uuid4().hex[:6]}@example.org"
    token = desk.customer_token(email)
    body = {"subject": "Found it myself", "text": "Where is the export button?"}
    number = desk.ok("POST", "api/portal/tickets", body, token=token)["ticket"]["number"]
    desk.ok("POST", "api/auth/link", {"email": email})
    page, watch = open_page(desk.login_link(email))
    page.get_by_role("link", name=re.compile("Found it myself")).click()
    expect(page.get_by_role("heading", name="Found it myself")).to_be_visible()

    page.get_by_role("button", name="My problem is solved").click()

    expect(page.locator("#ticket-status")).to_have_text("Solved")
    expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
    expect(page.get_by_role("button", name="My problem is solved")).to_be_hidden()
    expect(page.get_by_role("heading", name="Still need help? Reply to reopen")).to_be_visible()
    view = desk.ok("GET", f"api/agent/tickets/{number}", token=desk.agent_token("bob"))
    assert view["ticket"]["status"] == "solved"
    assert not watch.errors, watch.errors


def test_colleagues_see_their_organisations_requests_where_it_is_shared(
    desk: Desk, seeded: dict[str, Any], open_page: Any
) -> None:
    from playwright.sync_api import expect

    # GIVEN an organisation that shares tickets, and a colleague's request
    domain = f"org{uuid.uuid4().hex[:6]}.test"
    organisation = {"id": domain.split(".")[0], "name": "Shared Org", "domains": [domain]}
    organisation["shared_tickets"] = True  # type: ignore[assignment]
    desk.ok(
        "PUT",
        f"api/admin/organisations/{organisation['id']}",
        organisation,
        token=seeded["admin_token"],
    )
    colleague = desk.customer_token(f"colleague@{domain}")
    body = {"subject": "Colleague's printer", "text": "Jammed."}
    desk.ok("POST", "api/portal/tickets", body, token=colleague)

    # WHEN another member signs in and picks the organisation's requests
    email = f"member@{domain}"
    desk.ok("POST", "api/auth/link", {"email": email})
    page, watch = open_page(desk.login_link(email))
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    expect(page.get_by_text("You have no requests yet.")).to_be_visible()
    page.get_by_label("Show").select_option("organisation")

    # THEN the colleague's request is listed
    expect(page.get_by_role("link", name=re.compile("Colleague's printer"))).to_be_visible()
    assert not watch.errors, watch.errors
