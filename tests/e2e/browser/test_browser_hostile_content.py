"""Hostile mail and replies render inert in both UIs: no script, handler or javascript: URL
runs, nothing reaches out to the network, and nothing covers the page's own controls."""

from __future__ import annotations

import smtplib
import time
import uuid
from email.message import EmailMessage
from typing import Any

import pytest

from tests.e2e.browser.support import RUNNING, Desk, Sink, Watch, screenshot, sign_in_agent

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EVERY_STATUS = "open,pending,on_hold,solved,closed"


def hostile_html(sink: str) -> str:
    """One body carrying every kind of payload; each one would mark the page if it ran."""
    mark = "(top.__pwned=(top.__pwned||[]).concat('{0}'));top.document.title='pwned {0}'"
    payloads = [
        # script tags
        f"<script>{mark.format('script')};fetch('{sink}/script')</script>",
        f"<script src='{sink}/external.js'></script>",
        # event-handler attributes
        f'<img src="x" onerror="{mark.format("onerror")}">',
        f'<body onload="{mark.format("body-onload")}"><p onmouseover="{mark.format("hover")}">',
        f'<details open ontoggle="{mark.format("ontoggle")}"><summary>more</summary></details>',
        f'<input autofocus onfocus="{mark.format("onfocus")}">',
        # javascript: links and friends
        f'<a id="js-link" href="javascript:{mark.format("js-link")}">click me</a>',
        f'<a href="JaVaScRiPt&colon;{mark.format("js-entity")}">entity link</a>',
        f'<iframe src="javascript:{mark.format("js-iframe")}"></iframe>',
        f'<form action="{sink}/form"><button formaction="javascript:{mark.format("formaction")}">'
        "go</button></form>",
        f'<meta http-equiv="refresh" content="0;url=javascript:{mark.format("refresh")}">',
        f'<object data="javascript:{mark.format("object")}"></object>',
        # SVG payloads
        f'<svg onload="{mark.format("svg-onload")}"><script>{mark.format("svg-script")}</script>'
        f'<animate onbegin="{mark.format("svg-animate")}" attributeName="x" dur="1s"/>'
        f'<a xlink:href="javascript:{mark.format("svg-link")}"><text y="20">svg link</text></a>'
        "</svg>",
        f'<math><mtext><table><mglyph><style><img src=x onerror="{mark.format("mxss")}">'
        "</style></mglyph></table></mtext></math>",
        # CSS tricks
        '<div style="position:fixed;top:0;left:0;width:100vw;height:100vh;z-index:2147483647;'
        'background:rgba(255,0,0,.6)">OVERLAY</div>',
        f'<div style="background:url(javascript:{mark.format("css-url")});'
        f'width:expression({mark.format("expression")})">css expression</div>',
        f"<style>@import url('{sink}/import.css'); body {{ background: url('{sink}/bg.png') }}"
        "</style>",
        f'<img src="{sink}/pixel.gif" alt="tracking pixel">',
        f'<link rel="stylesheet" href="{sink}/link.css">',
        f'<base href="{sink}/">',
    ]
    return "<html><body><p>Hostile body marker.</p>" + "".join(payloads) + "</body></html>"


def _assert_nothing_ran(page: Any, watch: Watch, sink: Sink, title: str) -> None:
    assert page.evaluate("window.__pwned === undefined"), page.evaluate("window.__pwned")
    assert page.title() == title
    assert not watch.dialogs, watch.dialogs
    assert not [error for error in watch.errors if "pwned" in error], watch.errors
    assert not [line for line in watch.console if "pwned" in line and "Refused" not in line]
    assert sink.hits == [], sink.hits


def _control_is_on_top(page: Any, selector: str) -> bool:
    """True when the page's own control, not a message's overlay, takes a click at its centre."""
    page.locator(selector).scroll_into_view_if_needed()
    return bool(
        page.evaluate(
            """(selector) => {
                const own = document.querySelector(selector);
                const box = own.getBoundingClientRect();
                const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
                const hit = document.elementFromPoint(x, y);
                return hit === own || own.contains(hit);
            }""",
            selector,
        )
    )


@pytest.fixture
def hostile_ticket(desk: Desk, sink: Sink, seeded: dict[str, Any]) -> dict[str, Any]:
    """A ticket opened by a hostile HTML mail through the stack's SMTP server (one per
    running stack, shared by the tests of this module)."""
    if "hostile_ticket" not in RUNNING.fixtures:
        RUNNING.fixtures["hostile_ticket"] = _mail_hostile_ticket(desk, sink, seeded)
    return dict(RUNNING.fixtures["hostile_ticket"])


def _mail_hostile_ticket(desk: Desk, sink: Sink, seeded: dict[str, Any]) -> dict[str, Any]:
    customer = f"mallory-{uuid.uuid4().hex[:6]}@example.org"
    subject = f"Hostile mail {uuid.uuid4().hex[:6]}"
    mail = EmailMessage()
    mail["From"] = f"Mallory <{customer}>"
    mail["To"] = "support@example.com"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<{uuid.uuid4().hex}@example.org>"
    mail.set_content("Hostile body marker (text part).")
    mail.add_alternative(hostile_html(sink.url), subtype="html")
    info = desk.stack.info
    with smtplib.SMTP(info.smtp_host, info.smtp_port, timeout=30) as smtp:
        smtp.send_message(mail)
    assert desk.stack.wait_idle(60)
    number = _find_ticket(desk, seeded["agent_token"], subject)
    return {"number": number, "subject": subject, "customer": customer}


def _find_ticket(desk: Desk, token: str, subject: str) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page = desk.ok(
            "GET", f"api/agent/tickets?status={EVERY_STATUS}&q={subject.split()[-1]}", token=token
        )
        if page["tickets"]:
            return int(page["tickets"][0]["number"])
        time.sleep(0.5)
    raise AssertionError(f"the hostile mail {subject!r} did not become a ticket")


def _agent_opens(
    open_page: Any, desk: Desk, seeded: dict[str, Any], number: int
) -> tuple[Any, Watch, str]:
    from playwright.sync_api import expect

    page, watch = open_page(f"{desk.agent_url}#/tickets/{number}")
    title = sign_in_agent(page, seeded["agent_id"])
    expect(page.locator("#ticket-title")).to_contain_text(f"#{number}")
    return page, watch, title


def test_a_hostile_mail_renders_inert_in_the_agent_workspace(
    desk: Desk, sink: Sink, seeded: dict[str, Any], hostile_ticket: dict[str, Any], open_page: Any
) -> None:
    from playwright.sync_api import expect

    sink.hits.clear()
    page, watch, title = _agent_opens(open_page, desk, seeded, hostile_ticket["number"])
    body = page.frame_locator("#thread iframe.body-html").first
    expect(body.get_by_text("Hostile body marker.")).to_be_visible()

    # WHEN the agent clicks what the mail offers
    link = body.get_by_text("click me")
    if link.count():
        link.click()
    page.wait_for_timeout(500)

    # THEN nothing ran, nothing reached the sink, and the overlay covers none of our controls
    screenshot(page, "hostile-1-agent", full_page=False)
    _assert_nothing_ran(page, watch, sink, title)
    assert _control_is_on_top(page, "#composer-send")
    assert _control_is_on_top(page, "#props-save")


def test_a_hostile_mail_renders_inert_in_the_customer_portal(
    desk: Desk, sink: Sink, hostile_ticket: dict[str, Any], open_page: Any
) -> None:
    from playwright.sync_api import expect

    sink.hits.clear()
    customer = hostile_ticket["customer"]
    desk.ok("POST", "api/auth/link", {"email": customer})
    page, watch = open_page(desk.login_link(customer))
    expect(page.get_by_role("heading", name="My requests")).to_be_visible()
    title = page.title()  # the brand is applied before the first view shows
    page.get_by_role("link", name=hostile_ticket["subject"]).click()
    body = page.frame_locator("iframe.body-html").first
    expect(body.get_by_text("Hostile body marker.")).to_be_visible()
    page.wait_for_timeout(500)
    screenshot(page, "hostile-2-portal")
    _assert_nothing_ran(page, watch, sink, title)
    assert _control_is_on_top(page, "#reply-submit")


def test_hostile_markup_typed_as_a_reply_shows_as_text(
    desk: Desk, sink: Sink, seeded: dict[str, Any], hostile_ticket: dict[str, Any], open_page: Any
) -> None:
    from playwright.sync_api import expect

    # GIVEN the customer replies with markup typed into the portal's text box
    sink.hits.clear()
    number = hostile_ticket["number"]
    typed = hostile_html(sink.url)
    customer = desk.customer_token(hostile_ticket["customer"])
    desk.ok("POST", f"api/portal/tickets/{number}/replies", {"text": typed}, token=customer)

    # WHEN the agent opens the ticket THEN the markup is shown as the characters typed
    page, watch, title = _agent_opens(open_page, desk, seeded, number)
    last = page.locator("#thread li.message").last
    expect(last).to_contain_text("<script>")
    expect(last).to_contain_text("onerror=")
    page.wait_for_timeout(500)
    _assert_nothing_ran(page, watch, sink, title)


def test_unsanitised_html_that_slips_past_the_server_still_cannot_run(
    desk: Desk, sink: Sink, seeded: dict[str, Any], hostile_ticket: dict[str, Any], open_page: Any
) -> None:
    """The second wall: a stored body that never went through the sanitiser (as if it had a
    bug) is shown in a frame whose sandbox and policy forbid scripts and remote loads."""
    from playwright.sync_api import expect

    from helpdesk.data.tickets import TicketRepository

    # GIVEN the first message of the ticket holds raw hostile HTML in the table
    sink.hits.clear()
    number = hostile_ticket["number"]
    table = desk.stack.session.resource("dynamodb").Table(desk.stack.stack.tables["Table"])
    repository = TicketRepository(table)
    first = repository.thread(number).messages[0]
    repository.update_message(
        first.model_copy(update={"html": hostile_html(sink.url).replace("Hostile", "Raw hostile")})
    )

    # WHEN the agent opens it
    page, watch, title = _agent_opens(open_page, desk, seeded, number)
    body = page.frame_locator("#thread iframe.body-html").first
    expect(body.get_by_text("Raw hostile body marker.")).to_be_visible()
    link = body.get_by_text("click me")
    if link.count():
        link.click()
    page.wait_for_timeout(500)

    # THEN still nothing ran and nothing reached out
    screenshot(page, "hostile-3-stored-raw", full_page=False)
    _assert_nothing_ran(page, watch, sink, title)
    assert _control_is_on_top(page, "#composer-send")


def test_raw_html_in_a_message_frame_cannot_run_or_reach_out(
    desk: Desk, sink: Sink, open_page: Any
) -> None:
    """The frame alone, fed unsanitised HTML on the real page (with its served policy):
    the sandbox without allow-scripts and the frame's own policy are a wall of their own."""
    from playwright.sync_api import expect

    sink.hits.clear()
    page, watch = open_page(desk.portal_url)
    expect(page.get_by_label("Email address")).to_be_visible()
    title = page.title()

    # WHEN the page's own module renders the raw payloads as a message body
    page.evaluate(
        """async (html) => {
            const url = new URL("static/shared/mail.js", document.baseURI);
            const { messageBody } = await import(url);
            const node = messageBody({ html, text: "" });
            node.id = "raw-frame";
            document.querySelector("main").append(node);
        }""",
        hostile_html(sink.url),
    )
    frame = page.frame_locator("#raw-frame")
    expect(frame.get_by_text("Hostile body marker.")).to_be_visible()
    assert "allow-scripts" not in (page.get_attribute("#raw-frame", "sandbox") or "")
    frame.get_by_text("click me").click()
    frame.get_by_text("svg link").click()
    page.wait_for_timeout(500)

    # THEN nothing ran, nothing was fetched, and the overlay stayed inside its frame
    screenshot(page, "hostile-4-raw-frame")
    _assert_nothing_ran(page, watch, sink, title)
    assert _control_is_on_top(page, "#signin-form button[type=submit]")


def test_the_payloads_do_run_on_a_page_without_these_defences(browser: Any) -> None:
    """The control: the same body on a bare page, with no policy, sandbox or sanitiser,
    does run and reach out, so the assertions above can fail."""
    from playwright.sync_api import expect

    control = Sink().start()
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content(hostile_html(control.url))
        page.wait_for_timeout(500)
        ran = page.evaluate("window.__pwned || []")
        assert {"script", "onerror", "svg-onload", "ontoggle"} <= set(ran), ran
        assert "pwned" in page.title()
        assert any("pixel.gif" in hit for hit in control.hits), control.hits
        assert not _control_is_on_top(page, "#js-link")  # the overlay covers the page

        # A javascript: link replaces the document with its result when followed.
        page.evaluate("document.getElementById('js-link').click()")
        expect(page.locator("body")).to_contain_text("pwned js-link")
    finally:
        context.close()
        control.stop()
