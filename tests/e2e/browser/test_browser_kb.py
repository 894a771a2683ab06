"""The agents' knowledge-base page: create, find, edit, read the history of and delete an
article, with the API agreeing at each step."""

from __future__ import annotations

import uuid
from typing import Any

from tests.e2e.browser.support import Desk, screenshot, sign_in_agent


def test_agent_creates_edits_and_deletes_an_article_on_the_knowledge_page(
    desk: Desk, seeded: dict[str, Any], open_page: Any
) -> None:
    from playwright.sync_api import expect

    token = desk.agent_token(seeded["agent_id"])
    title = f"Rotating API keys {uuid.uuid4().hex[:6]}"
    page, watch = open_page(desk.agent_url)
    sign_in_agent(page, seeded["agent_id"])

    page.get_by_role("link", name="Knowledge base").click()
    expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    expect(page.get_by_role("heading", name="New article")).to_be_visible()

    page.get_by_label("Title").fill(title)
    page.get_by_label("Body (Markdown)").fill("Open *Settings*, then **API keys**, then Rotate.")
    page.get_by_label("Tags").fill("security, api")
    page.get_by_label("Visibility").select_option("internal")
    page.get_by_role("button", name="Create article").click()
    expect(page.get_by_role("status")).to_contain_text(f"Created “{title}”")
    expect(page.locator("#editor-meta")).to_contain_text("Version 1")

    listed = {
        a["title"]: a for a in desk.ok("GET", "api/agent/kb/articles", token=token)["articles"]
    }
    created = listed[title]
    assert (created["visibility"], created["tags"], created["version"]) == (
        "internal",
        ["security", "api"],
        1,
    )

    page.get_by_role("button", name="New article").click()
    page.get_by_role("searchbox", name="Search").fill("rotating")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#article-rows")).to_have_attribute("data-query", "rotating")
    row = page.locator(f'#article-rows tr[data-id="{created["id"]}"]')
    expect(row).to_contain_text("internal")
    expect(row).to_contain_text("security, api")
    expect(page.locator("#article-rows tr")).to_have_count(1)
    expect(page.locator("#list-count")).to_contain_text("1 of")

    # A word of the body only: the API's search finds it, the page's own filter could not.
    page.get_by_role("searchbox", name="Search").fill("settings")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.locator("#article-rows")).to_have_attribute("data-query", "settings")
    expect(page.locator("#article-rows tr")).to_have_count(1)
    expect(row).to_be_visible()
    row.get_by_role("button", name=title).click()
    expect(page.get_by_label("Title")).to_have_value(title)

    page.get_by_label("Body (Markdown)").fill(
        "Open *Settings* > **API keys** and choose Rotate now."
    )
    page.get_by_label("Visibility").select_option("public")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("as version 2")
    expect(row.locator("td").nth(4)).to_have_text("2")
    versions = page.get_by_role("list", name="Versions").get_by_role("listitem")
    expect(versions).to_have_count(2)
    expect(versions.first).to_contain_text("Version 2")
    expect(versions.first).to_contain_text("public")
    expect(versions.nth(1)).to_contain_text("internal")

    stored = desk.ok("GET", f"api/agent/kb/articles/{created['id']}", token=token)
    assert (stored["version"], stored["visibility"]) == (2, "public")
    assert "Rotate now" in stored["body"]
    history = desk.ok("GET", f"api/agent/kb/articles/{created['id']}/versions", token=token)
    assert [v["version"] for v in history["versions"]] == [1, 2]
    screenshot(page, "agent-kb")

    page.get_by_role("button", name="Delete article").click()
    confirm = page.get_by_role("group", name="Delete this article?")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Yes, delete it").click()
    expect(page.get_by_role("status")).to_contain_text(f"Deleted “{title}”")
    expect(page.locator(f'#article-rows tr[data-id="{created["id"]}"]')).to_have_count(0)
    expect(page.get_by_role("heading", name="New article")).to_be_visible()

    status, _ = desk.call("GET", f"api/agent/kb/articles/{created['id']}", token=token)
    assert status == 404
    titles = [a["title"] for a in desk.ok("GET", "api/agent/kb/articles", token=token)["articles"]]
    assert title not in titles
    assert watch.errors == [] and watch.dialogs == []


def test_saving_an_article_someone_changed_meanwhile_shows_the_conflict_and_keeps_theirs(
    desk: Desk, seeded: dict[str, Any], open_page: Any
) -> None:
    from playwright.sync_api import expect

    token = desk.agent_token(seeded["agent_id"])
    title = f"Refund window {uuid.uuid4().hex[:6]}"
    created = desk.ok(
        "POST", "api/agent/kb/articles", {"title": title, "body": "Refunds within 14 days."}, token
    )
    page, watch = open_page(desk.agent_url)
    sign_in_agent(page, seeded["agent_id"])
    page.goto(desk.base + "knowledge")
    expect(page.locator("body")).to_have_attribute("data-loaded", "true")
    page.locator(f'#article-rows tr[data-id="{created["id"]}"]').get_by_role(
        "button", name=title
    ).click()
    expect(page.get_by_label("Title")).to_have_value(title)

    theirs = {"title": title, "body": "Refunds within 30 days.", "version": 1}
    desk.ok("PUT", f"api/agent/kb/articles/{created['id']}", theirs, token)
    page.get_by_label("Body (Markdown)").fill("Refunds within 7 days.")
    page.get_by_role("button", name="Save changes").click()

    expect(page.get_by_role("alert").filter(has_text="Not saved")).to_contain_text(
        "someone changed this article after you opened version 1"
    )
    stored = desk.ok("GET", f"api/agent/kb/articles/{created['id']}", token=token)
    assert (stored["version"], stored["body"]) == (2, "Refunds within 30 days.")

    page.get_by_role("button", name="Load the current version").click()
    expect(page.get_by_label("Body (Markdown)")).to_have_value("Refunds within 30 days.")
    expect(page.locator("#editor-meta")).to_contain_text("Version 2")
    assert watch.errors == [] and watch.dialogs == []
