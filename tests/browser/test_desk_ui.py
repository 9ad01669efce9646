"""The agent desk in headless Chromium with a shopper in a second context, against the stub
Rasa: the queue's reason and wait, the summary and chips, products as cards, handoff lines as
system lines, the title count and the focused reply box after a claim, display names, typing
both ways, canned replies, internal notes the shopper never gets, and a transcript that keeps
updating after the hand-back; then the desk on a phone."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import AGENT_DISPLAY, AGENT_NAME
from tests.browser.helpers import (
    DESKTOP,
    MOBILE,
    SMALL_TARGETS_JS,
    WAIT,
    conversation_id,
    login,
    open_widget,
    waiting_conversation,
)

pytestmark = [pytest.mark.browser]


def _title_count(desk) -> int:
    return desk.locator("#waiting .queue-item").count()


def test_agent_desk_end_to_end(browser, stub_gateway, artifacts):
    from playwright.sync_api import expect

    shopper_ctx = browser.new_context(**DESKTOP)
    agent_ctx = browser.new_context(viewport={"width": 1440, "height": 960})
    page, desk = shopper_ctx.new_page(), agent_ctx.new_page()
    errors: list[str] = []
    for p in (page, desk):
        p.on("pageerror", lambda e: errors.append(str(e)))
    login(desk, stub_gateway.url)
    expect(desk.locator("#display-name")).to_have_value(AGENT_DISPLAY)

    box = open_widget(page, stub_gateway.url)
    box.fill("show me green jackets")
    box.press("Enter")
    expect(page.locator(".aisle-card")).to_have_count(6, timeout=WAIT)
    box.fill("I want a human")
    box.press("Enter")
    expect(page.locator(".aisle-status")).to_contain_text("Waiting for a human", timeout=WAIT)
    conv_id = conversation_id(page)

    # the queue: who, why, how long; the title counts the waiting ones
    item = desk.locator(f'#waiting .queue-item[data-conversation-id="{conv_id}"]')
    expect(item).to_be_visible(timeout=WAIT)
    expect(desk.get_by_role("alert")).to_contain_text("waiting")
    expect(item.locator(".reason")).to_have_text("Asked for a human")
    expect(item.locator(".queue-time")).to_have_text(re.compile(r"^waiting (just now|\d+ min)$"))
    expect(item.locator(".queue-preview")).to_have_text("“I want a human”")
    waiting = _title_count(desk)
    expect(desk).to_have_title(f"({waiting}) Aisle agent desk")

    # the conversation: summary, chips, products as cards, system lines, details folded away
    item.click()
    expect(desk.locator("#summary")).to_have_text(re.compile(
        r"^Looking for rain jackets · women · green · under \$150 · not Northpeak; saw 6 products; "
        r"asked for a human\.$"))
    chips = desk.locator("#chips .chip")
    expect(chips).to_have_text(["rain jackets", "women", "green", "under $150", "not Northpeak"])
    cards = desk.locator("#products .mini-card")
    expect(cards).to_have_count(6)
    expect(cards.first.locator(".mini-price")).to_have_text("$89.00 · Stride")
    expect(cards.first.locator("img")).to_have_attribute("src", re.compile(r"/images/P00001\.svg"))
    expect(desk.locator("#actions")).to_contain_text("Handed over: Asked for a human")
    transcript = desk.get_by_role("log", name="Transcript")
    expect(transcript.locator(".line-system")).to_contain_text(["Handed over to a human"])
    assert transcript.locator(".line-bot", has_text="Handed over").count() == 0  # not a bot bubble
    expect(desk.locator("#slots")).to_be_hidden()
    desk.get_by_text("Details: slots and intents").click()
    expect(desk.locator("#slots th", has_text="search_constraints")).to_be_visible()

    # claim: the count drops, the reply box has the focus, the shopper sees the display name
    desk.get_by_role("button", name="Claim").click()
    expect(desk.locator("#conv-status")).to_have_text("held by you")
    expect(desk.get_by_label("Reply to shopper")).to_be_focused()
    expect(desk).to_have_title(
        "Aisle agent desk" if waiting == 1 else f"({waiting - 1}) Aisle agent desk")
    expect(page.locator(".aisle-status")).to_have_text(f"Chatting with {AGENT_DISPLAY}", timeout=WAIT)
    expect(page.locator(".aisle-handoff").last).to_have_text(f"{AGENT_DISPLAY} from the shop team joined the chat.")

    # typing, both ways
    page.get_by_role("textbox", name="Your message").press_sequentially("hel")
    expect(desk.locator("#shopper-typing")).to_have_text("Shopper is typing…", timeout=WAIT)
    reply = desk.get_by_label("Reply to shopper")
    reply.press_sequentially("Hi")
    expect(page.locator(".aisle-typing")).to_contain_text(f"{AGENT_DISPLAY} is typing", timeout=WAIT)
    reply.fill("")

    # a canned reply, edited and sent
    desk.get_by_label("Canned replies").select_option(label="Greeting")
    expect(reply).to_have_value(re.compile(rf"^Hi, I'm {AGENT_DISPLAY} from the shop team\."))
    expect(reply).to_be_focused()
    reply.press("Enter")
    expect(page.locator(".aisle-agent").last).to_contain_text(f"Hi, I'm {AGENT_DISPLAY}", timeout=WAIT)
    expect(page.locator(".aisle-agent .aisle-agent-name").last).to_have_text(f"{AGENT_DISPLAY} · shop team")

    # an internal note: on the desk, never in the widget
    desk.get_by_label("Internal note (agents only)").check()
    expect(desk.get_by_role("button", name="Add note")).to_be_visible()
    reply.fill("NOTE-91c: offered a free return label")
    reply.press("Enter")
    expect(transcript.locator(".line-note")).to_contain_text("NOTE-91c")
    desk.get_by_label("Internal note (agents only)").uncheck()
    reply.fill("Anything else?")
    reply.press("Enter")
    expect(page.locator(".aisle-agent").last).to_contain_text("Anything else?", timeout=WAIT)
    widget_text = page.locator(".aisle-root").inner_text()
    assert "NOTE-91c" not in widget_text and AGENT_NAME not in widget_text  # nor the login
    desk.screenshot(path=str(artifacts / "desk-stub.png"), full_page=True)

    # hand back: the conversation moves to "Resolved" and its transcript keeps updating
    desk.get_by_role("button", name="Hand back to bot").click()
    expect(desk.locator("#conv-status")).to_have_text("with the bot")
    resolved = desk.locator(f'#resolved .queue-item[data-conversation-id="{conv_id}"]')
    expect(resolved).to_be_visible()
    expect(resolved.locator(".holder")).to_have_text("handed back by you")
    box = page.get_by_role("textbox", name="Your message")
    box.fill("hi")
    box.press("Enter")
    expect(transcript.locator(".line-shopper").last).to_contain_text("hi", timeout=WAIT)
    expect(transcript.locator(".line-bot", has_text="Hi! What are you looking for?")).to_be_visible(timeout=WAIT)
    assert errors == []
    shopper_ctx.close()
    agent_ctx.close()


def test_desk_on_a_phone(browser, stub_gateway, artifacts):
    from playwright.sync_api import expect

    conv_id, _ = waiting_conversation(stub_gateway.url)
    ctx = browser.new_context(**MOBILE)
    desk = ctx.new_page()
    login(desk, stub_gateway.url)
    item = desk.locator(f'#waiting .queue-item[data-conversation-id="{conv_id}"]')
    item.tap()
    desk.get_by_role("button", name="Claim").tap()
    expect(desk.get_by_label("Reply to shopper")).to_be_focused()
    assert desk.get_by_label("Reply to shopper").evaluate("n => getComputedStyle(n).fontSize") == "16px"
    width = desk.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the desk scrolls sideways on a phone ({width}px)"
    small = desk.locator("#conversation").evaluate(SMALL_TARGETS_JS)
    small = [t for t in small if t["name"] != "Details: slots and intents"]
    assert small == [], f"targets under 44×44 px: {small}"
    desk.screenshot(path=str(artifacts / "desk-mobile-stub.png"))
    desk.get_by_role("button", name="Hand back to bot").tap()
    ctx.close()
