"""Issue 5's evidence in headless Chromium: shopper widget + agent desk, a full handoff cycle."""

from __future__ import annotations

import re

import pytest

from bot.store import GatewayStore
from tests.browser.conftest import AGENT_DISPLAY, AGENT_NAME, AGENT_PASSWORD
from tests.browser.helpers import MOBILE

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WAIT = 45_000  # ms: generous waits for real Rasa turns; nothing here measures speed


def _local_only(context, base_url: str) -> None:
    """No request may leave the gateway: anything else is aborted (and counted)."""
    outside: list[str] = []

    def route(route):
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    context.outside_requests = outside


def test_shopper_widget_and_agent_handoff(browser, gateway, artifacts):
    from playwright.sync_api import expect

    shopper_ctx = browser.new_context(viewport={"width": 1280, "height": 860})
    agent_ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    _local_only(shopper_ctx, gateway.url)
    _local_only(agent_ctx, gateway.url)
    page = shopper_ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # 1. the shopper opens the widget from the storefront and searches
    page.goto(gateway.url + "/")
    expect(page.locator("script")).to_have_count(1)
    launcher = page.get_by_role("button", name="Chat with us")
    launcher.focus()
    page.keyboard.press("Enter")  # keyboard works
    box = page.get_by_role("textbox", name="Your message")
    expect(box).to_be_focused()
    box.fill("show me running shoes")
    box.press("Enter")
    cards = page.locator(".aisle-card")
    expect(cards.first).to_be_visible(timeout=WAIT)
    expect(cards.first.locator(".aisle-card-why")).to_contain_text("✓")
    expect(cards.first.locator(".aisle-card-img")).to_have_attribute("src", re.compile(r"/images/.+\.svg(\?color=.+)?$"))
    expect(page.get_by_role("log", name="Conversation")).to_be_visible()
    first_title = cards.first.locator(".aisle-card-title").inner_text()
    first_id = cards.first.get_attribute("data-product-id")
    page.screenshot(path=str(artifacts / "widget.png"))

    # 2. clicking a product records a click event tied to the query and the products shown
    link = cards.first.locator("a.aisle-card-link")
    product_links = []
    if link.count():
        product_links.append(link.get_attribute("href"))
        with shopper_ctx.expect_page() as popup:
            link.click()
        popup.value.close()
    else:
        cards.first.locator(".aisle-card-title").click()
    store = GatewayStore(gateway.db_url)

    def click_events():
        return [e for e in store.iter_feedback() if e["type"] == "click" and e["product_id"] == first_id]

    for _ in range(100):  # the event is sent in the background (keepalive fetch)
        if click_events():
            break
        page.wait_for_timeout(100)
    clicks = click_events()
    assert clicks and clicks[0]["query"] == "show me running shoes" and first_id in clicks[0]["shown"]

    # 3. hostile text is shown as text, never run
    box.fill('<img src=x onerror="alert(1)"><script>alert(2)</script>')
    box.press("Enter")
    expect(page.locator(".aisle-shopper").last).to_have_text(
        re.compile(re.escape('<img src=x onerror="alert(1)"><script>alert(2)</script>')), timeout=WAIT)
    expect(page.locator(".aisle-shopper").last.locator("img")).to_have_count(0)

    # 4. a reload keeps the conversation
    page.reload()
    expect(page.locator(".aisle-card", has_text=first_title).first).to_be_visible(timeout=WAIT)
    expect(page.locator(".aisle-shopper", has_text="show me running shoes")).to_have_count(1)

    # 5. the agent logs into the desk in a second browser context
    desk = agent_ctx.new_page()
    desk.goto(gateway.url + "/desk")
    desk.get_by_label("Name").fill(AGENT_NAME)
    desk.get_by_label("Password").fill(AGENT_PASSWORD)
    desk.get_by_role("button", name="Log in").click()
    expect(desk.locator("#whoami")).to_contain_text(AGENT_NAME)
    expect(desk.locator("body")).to_have_attribute("data-connected", "1")

    # 6. the shopper checks an order (the bot verifies it), then asks for a human; the agent
    # is notified, and the queue says who it is, which order, and why
    box = page.get_by_role("textbox", name="Your message")
    for text in ("where is my order ORD-10427", "maya.tan@example.com"):
        bots = page.locator(".aisle-bot").count()
        box.fill(text)
        box.press("Enter")
        page.wait_for_function(
            "n => document.querySelectorAll('.aisle-bot').length > n", arg=bots, timeout=WAIT)
    expect(page.locator(".aisle-bot").last).to_contain_text("ORD-10427")
    box.fill("I want to talk to a human agent")
    box.press("Enter")
    expect(page.locator(".aisle-status")).to_contain_text("Waiting for a human", timeout=WAIT)
    expect(desk.get_by_role("alert")).to_contain_text("waiting", timeout=WAIT)
    waiting = desk.locator("#waiting .queue-item")
    expect(waiting).to_have_count(1)
    expect(waiting.first.locator(".queue-who")).to_have_text("Maya Tan")
    expect(waiting.first.locator(".order")).to_have_text("ORD-10427 ✓")
    expect(waiting.first.locator(".reason")).to_have_text("Asked for a human")

    # 7. claim; transcript, slots, intents and products with explanations are visible
    waiting.first.click()
    desk.get_by_role("button", name="Claim").click()
    expect(desk.locator("#conv-status")).to_have_text("held by you")
    transcript = desk.get_by_role("log", name="Transcript")
    expect(transcript).to_contain_text("show me running shoes")
    expect(desk.get_by_label("Reply to shopper")).to_be_focused()
    expect(desk.locator("#summary")).to_have_text(re.compile(
        # the chips after the product type depend on what the trained model read in the test's
        # other messages (its hostile-markup line included); the summary's parts do not
        r"^Maya Tan; looking for running shoes[^;]*; saw \d+ products; order ORD-10427, verified.*; "
        r"asked for a human\.$"))
    expect(desk.locator("#chips .chip").first).to_have_text("running shoes")
    expect(desk.locator("#actions")).to_contain_text("Searched the catalog: “show me running shoes”")
    expect(desk.locator("#products .mini-card .mini-met").first).to_contain_text("✓")
    expect(desk.locator("#products .mini-card .mini-price").first).to_contain_text("$")
    expect(transcript.locator(".line-system").first).to_contain_text("Handed over to a human")
    desk.get_by_text("Details: slots and intents").click()
    expect(desk.locator("#slots th").first).to_be_visible()
    expect(desk.locator("#intents li").first).to_be_visible()
    expect(page.locator(".aisle-status")).to_contain_text(AGENT_DISPLAY, timeout=WAIT)
    desk.screenshot(path=str(artifacts / "desk.png"), full_page=True)

    # 8. the shopper writes, the agent sees it; the agent replies, the shopper sees it
    box.fill("my order never arrived")
    box.press("Enter")
    expect(transcript).to_contain_text("my order never arrived", timeout=WAIT)
    reply = desk.get_by_label("Reply to shopper")
    reply.fill("Hi, this is Alice. I'm looking into it.")
    reply.press("Enter")
    expect(page.locator(".aisle-agent")).to_contain_text("I'm looking into it.", timeout=WAIT)

    # 9. hand back: the bot answers the next message
    desk.get_by_role("button", name="Hand back to bot").click()
    expect(page.locator(".aisle-status")).to_have_text("", timeout=WAIT)
    bot_before = page.locator(".aisle-bot").count()
    box.fill("hi")
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('.aisle-bot').length > n", arg=bot_before, timeout=WAIT)
    assert not page.locator(".aisle-fallback").count(), "the bot answered with the fallback text"

    # 10. the same widget on a phone: full screen, a real search
    phone_ctx = browser.new_context(**MOBILE)
    _local_only(phone_ctx, gateway.url)
    phone = phone_ctx.new_page()
    phone.goto(gateway.url + "/")
    phone.get_by_role("button", name="Chat with us").tap()
    phone_box = phone.get_by_role("textbox", name="Your message")
    phone_box.fill("rain jackets for women under 150")
    phone_box.press("Enter")
    expect(phone.locator(".aisle-card").first).to_be_visible(timeout=WAIT)
    phone.wait_for_timeout(300)  # the images
    phone.screenshot(path=str(artifacts / "widget-mobile.png"))
    phone_ctx.close()

    assert dialogs == [], f"a script ran: {dialogs}"
    assert errors == [], f"page errors: {errors}"
    # nothing but the product page opened from the card left the gateway (no CDN, no tracking)
    assert set(shopper_ctx.outside_requests) <= set(product_links)
    assert agent_ctx.outside_requests == []
    shopper_ctx.close()
    agent_ctx.close()
    store.dispose()
