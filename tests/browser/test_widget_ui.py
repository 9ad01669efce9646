"""The shopper widget in headless Chromium, against the stub Rasa: greeting and suggestions,
queued sends, the typing indicator, product cards and their carousel, the tab order, the
focus ring, and the full-screen layout on a phone."""

from __future__ import annotations

import re

import pytest

from bot.store import GatewayStore
from tests.browser.helpers import DESKTOP, MOBILE, SMALL_TARGETS_JS, WAIT, focus_ring, open_widget

pytestmark = [pytest.mark.browser]


def _errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def test_greeting_suggestions_cards_and_carousel(browser, stub_gateway, artifacts):
    from playwright.sync_api import expect

    ctx = browser.new_context(**DESKTOP)
    page = ctx.new_page()
    errors = _errors(page)
    open_widget(page, stub_gateway.url)

    # a new chat opens with a greeting and suggestion chips (from the script tag's data-*)
    expect(page.locator(".aisle-greeting")).to_contain_text("Aisle demo shop's assistant")
    chips = page.get_by_role("group", name="Suggestions").get_by_role("button")
    expect(chips).to_have_count(5)
    expect(chips.first).to_have_text("Rain jackets under $150")
    chips.first.click()
    expect(page.locator(".aisle-shopper").first).to_contain_text("Rain jackets under $150")
    expect(page.get_by_role("group", name="Suggestions")).to_have_count(0)

    # six cards in a carousel with arrows; each card says brand, gender, sizes, and why
    cards = page.locator(".aisle-card")
    expect(cards).to_have_count(6, timeout=WAIT)
    first = cards.first
    expect(first.locator(".aisle-card-price")).to_have_text("$89.00")
    expect(first.locator(".aisle-card-facts")).to_have_text("Stride · Women's · Sizes 8, 9, 10")
    expect(first.locator(".aisle-why-met")).to_contain_text("✓")
    expect(first.locator(".aisle-why-met")).to_contain_text("rain jackets · green · under $150 +1")
    expect(first.locator(".aisle-why-unmet")).to_have_count(0)
    # the picture is drawn in the colour that matched, not the product's first (black)
    expect(first.locator(".aisle-card-img")).to_have_attribute("src", re.compile(r"P00001\.svg\?color=green$"))
    relaxed = cards.nth(1).locator(".aisle-why-unmet")
    expect(relaxed).to_have_text("Differs: not green (+3 more)")  # one short line, not a wall of ✗
    expect(page.locator(".aisle-relaxed")).to_have_text(
        "Widened the search: price up to $195 instead of $150; any colour")

    prev = page.get_by_role("button", name="Previous products")
    nxt = page.get_by_role("button", name="Next products")
    expect(nxt).to_be_visible()
    expect(prev).to_be_disabled()
    expect(page.locator(".aisle-carousel-hint")).to_contain_text("of 6")
    snap = page.locator(".aisle-cards").evaluate("n => getComputedStyle(n).scrollSnapType")
    assert snap.startswith("x")
    nxt.click()
    expect(prev).to_be_enabled(timeout=WAIT)
    page.wait_for_function("() => document.querySelector('.aisle-cards').scrollLeft > 100")
    page.screenshot(path=str(artifacts / "widget-stub.png"))

    # a second result set: the first one leaves the tab order (still clickable with a mouse)
    box = page.get_by_role("textbox", name="Your message")
    box.fill("show me running shoes")
    box.press("Enter")
    expect(page.locator(".aisle-products")).to_have_count(2, timeout=WAIT)
    old, new = page.locator(".aisle-products").nth(0), page.locator(".aisle-products").nth(1)
    expect(old).to_have_attribute("data-stale", "1")
    assert old.evaluate("n => [...n.querySelectorAll('a, button')].every(b => b.tabIndex === -1)")
    assert new.evaluate("n => [...n.querySelectorAll('a, button')].every(b => b.tabIndex === 0)")
    box.focus()
    reached = set()
    for _ in range(40):  # Shift+Tab backwards from the input through the log
        page.keyboard.press("Shift+Tab")
        reached.add(page.evaluate(
            "() => { const s = document.activeElement.closest('.aisle-products');"
            " return s ? [...document.querySelectorAll('.aisle-products')].indexOf(s) : -1 }"))
    assert 1 in reached and 0 not in reached
    assert errors == []
    ctx.close()


def test_messages_typed_while_one_is_in_flight_are_queued_never_dropped(browser, stub_gateway):
    from playwright.sync_api import expect

    ctx = browser.new_context(**DESKTOP)
    page = ctx.new_page()
    errors = _errors(page)
    box = open_widget(page, stub_gateway.url)
    expect(page.locator(".aisle-greeting")).to_be_visible()
    texts = ["tell me slowly about socks", "second thing", "third thing"]
    for text in texts:
        box.fill(text)
        box.press("Enter")
    shopper = page.locator(".aisle-shopper")
    expect(shopper).to_have_count(3)
    expect(shopper.nth(0)).to_contain_text("Sending…")
    expect(shopper.nth(1)).to_contain_text("Queued")
    expect(shopper.nth(2)).to_contain_text("Queued")
    typing = page.locator(".aisle-typing")
    expect(typing).to_be_visible()
    expect(typing).to_contain_text("Assistant is typing")
    # all three are answered, in order, and the pending marks go away
    expect(page.locator(".aisle-bot")).to_have_count(4, timeout=WAIT)  # greeting + 3 answers
    expect(page.locator(".aisle-pending")).to_have_count(0)
    expect(typing).to_be_hidden()
    answers = page.locator(".aisle-bot:not(.aisle-greeting) .aisle-text").all_inner_texts()
    assert answers == [f"You said: {t}" for t in texts]
    conv_id = page.evaluate("() => JSON.parse(Object.entries(localStorage).find(([k]) => "
                            "k.startsWith('aisle.conversation:'))[1]).id")
    store = GatewayStore(stub_gateway.db_url)
    try:
        stored = [m["text"] for m in store.history(conv_id) if m["sender"] == "shopper"]
    finally:
        store.dispose()
    assert stored == texts
    assert errors == []
    ctx.close()


def test_focus_ring_has_3_to_1_contrast_everywhere(browser, stub_gateway):
    ctx = browser.new_context(**DESKTOP)
    page = ctx.new_page()
    open_widget(page, stub_gateway.url)
    page.get_by_role("group", name="Suggestions").wait_for()
    checked = []
    for _ in range(12):  # walk the widget with Tab: log, chips, input, send, close…
        page.keyboard.press("Tab")
        focused = page.locator(":focus")
        if not focused.count() or not focused.evaluate("n => !!n.closest('.aisle-root')"):
            continue
        ring = focus_ring(focused)
        name = focused.evaluate("n => n.getAttribute('aria-label') || n.textContent || n.className")
        checked.append(name)
        assert ring["outline"] != "none" and ring["width"] >= 2, name
        assert ring["ratio"] >= 3, (name, ring)
    assert len(checked) >= 5
    ctx.close()


def test_phone_layout_is_full_screen_with_44px_targets_and_16px_input(browser, stub_gateway, artifacts):
    from playwright.sync_api import expect

    ctx = browser.new_context(**MOBILE)
    page = ctx.new_page()
    errors = _errors(page)
    page.goto(stub_gateway.url + "/")
    launcher = page.get_by_role("button", name="Chat with us")
    box = launcher.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    launcher.tap()
    panel = page.locator(".aisle-panel")
    expect(panel).to_be_visible()
    rect = panel.bounding_box()
    assert (rect["x"], rect["y"], rect["width"], rect["height"]) == (0, 0, 390, 844)
    expect(launcher).to_be_hidden()  # the header's × closes it
    box = page.get_by_role("textbox", name="Your message")
    assert box.evaluate("n => getComputedStyle(n).fontSize") == "16px"  # iOS does not zoom
    expect(page.get_by_role("group", name="Suggestions")).to_be_visible()
    box.fill("show me green jackets")
    box.press("Enter")
    expect(page.locator(".aisle-card")).to_have_count(6, timeout=WAIT)
    expect(page.get_by_role("button", name="Next products")).to_be_visible()
    small = panel.evaluate(SMALL_TARGETS_JS)
    assert small == [], f"targets under 44×44 px: {small}"
    page.screenshot(path=str(artifacts / "widget-mobile-stub.png"))
    page.get_by_role("button", name="Close chat").tap()
    expect(panel).to_be_hidden()
    expect(launcher).to_be_visible()
    assert errors == []
    ctx.close()


def test_links_in_the_bots_replies_open_and_nothing_else_becomes_one(browser, stub_gateway):
    from playwright.sync_api import expect

    ctx = browser.new_context(**DESKTOP)
    page = ctx.new_page()
    errors = _errors(page)
    box = open_widget(page, stub_gateway.url)
    # the stub Rasa echoes the message, so the bot's reply carries the same text
    box.fill("label at /returns/RET-30008/label?expires=9&sig=ab. or javascript:alert(1) and 1/2")
    box.press("Enter")
    reply = page.locator(".aisle-bot:not(.aisle-greeting)").first
    expect(reply).to_contain_text("javascript:alert(1)", timeout=WAIT)
    links = reply.locator("a.aisle-link")
    expect(links).to_have_count(1)
    expect(links.first).to_have_text("/returns/RET-30008/label")
    expect(links.first).to_have_attribute(
        "href", f"{stub_gateway.url}/returns/RET-30008/label?expires=9&sig=ab")
    expect(links.first).to_have_attribute("rel", "noopener noreferrer")
    expect(page.locator(".aisle-shopper a")).to_have_count(0)  # the shopper's own text stays text
    assert errors == []
    ctx.close()
