"""Add to cart with a size and colour chooser, the mini cart (also after a reload) and the
comparison table, in headless Chromium against the stub Rasa, on a desktop and a phone."""

from __future__ import annotations

import json

import pytest

from bot.store import GatewayStore
from tests.browser.helpers import (
    DESKTOP,
    MOBILE,
    SMALL_TARGETS_JS,
    WAIT,
    conversation_id,
    open_widget,
)

pytestmark = [pytest.mark.browser]
DEVICES = {"desktop": DESKTOP, "mobile": MOBILE}


def _errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def _ask(page, box, text: str, cards: int) -> None:
    from playwright.sync_api import expect

    before = page.locator(".aisle-products").count()
    box.fill(text)
    box.press("Enter")
    expect(page.locator(".aisle-products")).to_have_count(before + 1, timeout=WAIT)
    expect(page.locator(".aisle-products").last.locator(".aisle-card")).to_have_count(cards)


def _shopper_texts(db_url: str, conv_id: str) -> list[str]:
    store = GatewayStore(db_url)
    try:
        return [m["text"] for m in store.history(conv_id) if m["sender"] == "shopper"]
    finally:
        store.dispose()


@pytest.mark.parametrize("device", list(DEVICES))
def test_add_to_cart_asks_size_and_colour_and_the_mini_cart_survives_a_reload(
        browser, stub_gateway, artifacts, device):
    from playwright.sync_api import expect

    ctx = browser.new_context(**DEVICES[device])
    page = ctx.new_page()
    errors = _errors(page)
    box = open_widget(page, stub_gateway.url)
    cart = page.locator(".aisle-cart-btn")
    expect(cart).to_have_accessible_name("Cart, 0 items")
    _ask(page, box, "show me green jackets", 6)

    # Trail Runner 2 comes in three sizes and two colours: the button opens a chooser first
    card = page.locator(".aisle-card").first
    add = card.get_by_role("button", name="Add to cart: Trail Runner 2")
    sent = page.locator(".aisle-shopper").count()
    add.click()
    chooser = card.get_by_role("group", name="Choose for Trail Runner 2")
    expect(chooser).to_be_visible()
    expect(add).to_have_attribute("aria-expanded", "true")
    size, colour = chooser.get_by_label("Size"), chooser.get_by_label("Colour")
    expect(size).to_be_focused()
    assert size.locator("option").all_inner_texts() == ["Choose…", "8", "9", "10"]
    assert colour.locator("option").all_inner_texts() == ["Choose…", "black", "green"]
    if device == "mobile":  # 44 px targets on a phone, selects included
        assert chooser.evaluate(SMALL_TARGETS_JS) == []
        assert all(s.bounding_box()["height"] >= 44 for s in (size, colour))
        assert size.evaluate("n => getComputedStyle(n).fontSize") == "16px"
    page.screenshot(path=str(artifacts / f"widget-chooser-{device}.png"))

    # nothing is sent without a size; the chooser says what is missing
    chooser.get_by_role("button", name="Add Trail Runner 2 to cart").click()
    expect(chooser.locator(".aisle-choose-error")).to_have_text("Please choose a size.")
    expect(size).to_have_attribute("aria-invalid", "true")
    expect(size).to_be_focused()
    assert page.locator(".aisle-shopper").count() == sent

    # by keyboard: a size, Tab, a colour, Tab, Enter on Add
    size.select_option("9")
    page.keyboard.press("Tab")
    expect(colour).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(colour).to_have_value("green")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(chooser).to_have_count(0)
    expect(add).to_be_focused()
    expect(page.locator(".aisle-shopper").last).to_contain_text("Add to cart: Trail Runner 2 (9, green)")
    expect(page.locator(".aisle-bot").last).to_contain_text("Added Trail Runner 2 to your cart", timeout=WAIT)
    expect(cart).to_have_accessible_name("Cart, 1 item")
    conv_id = conversation_id(page)
    assert _shopper_texts(stub_gateway.db_url, conv_id)[-1] == \
        "/add_to_cart" + json.dumps({"product_id": "P00001", "size": "9", "color": "green"}, separators=(",", ":"))

    # Road Glide has no sizes or colours: added at once, no chooser
    _ask(page, box, "show me running shoes", 2)
    page.locator(".aisle-products").last.get_by_role("button", name="Add to cart: Road Glide").click()
    expect(cart).to_have_accessible_name("Cart, 2 items", timeout=WAIT)
    assert page.locator(".aisle-choose").count() == 0

    # the mini cart: its lines and total; Escape closes it, not the chat
    cart.click()
    panel = page.get_by_role("region", name="Your cart")
    expect(panel).to_be_visible()
    expect(cart).to_have_attribute("aria-expanded", "true")
    lines = panel.locator(".aisle-cart-line")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_contain_text("Trail Runner 2")
    expect(lines.nth(0).locator(".aisle-cart-variant")).to_have_text("Size 9 · green")
    expect(lines.nth(1)).to_contain_text("Road Glide")
    expect(lines.nth(1).locator(".aisle-cart-variant")).to_have_count(0)
    expect(panel.locator(".aisle-cart-total")).to_contain_text("$154.50")
    page.screenshot(path=str(artifacts / f"widget-cart-{device}.png"))
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(cart).to_be_focused()
    expect(page.locator(".aisle-panel")).to_be_visible()

    # a reload: the mini cart comes back from the history's newest cart
    page.reload()
    expect(page.locator(".aisle-bot").last).to_contain_text("Added Road Glide", timeout=WAIT)
    expect(cart).to_have_accessible_name("Cart, 2 items")
    cart.click()
    expect(page.get_by_role("region", name="Your cart").locator(".aisle-cart-line")).to_have_count(2)
    assert errors == []
    ctx.close()


@pytest.mark.parametrize("device", list(DEVICES))
def test_comparison_is_an_accessible_table_that_scrolls_inside_itself(browser, stub_gateway,
                                                                       artifacts, device):
    from playwright.sync_api import expect

    ctx = browser.new_context(**DEVICES[device])
    page = ctx.new_page()
    errors = _errors(page)
    box = open_widget(page, stub_gateway.url)
    box.fill("compare the first two")
    box.press("Enter")
    table = page.get_by_role("table", name="Comparing Stub Jacket 1 and Stub Jacket 2")
    expect(table).to_be_visible(timeout=WAIT)
    expect(page.locator(".aisle-bot .aisle-text").last).to_contain_text("is the cheaper one")  # text kept
    columns = table.locator("thead th[scope=col]")
    assert columns.all_inner_texts() == ["Stub Jacket 1", "Stub Jacket 2"]
    rows = table.locator("tbody tr")
    assert table.locator("tbody th[scope=row]").all_inner_texts() == [
        "Price", "Brand", "Rating", "Colours", "Sizes", "Materials", "Availability"]
    assert rows.nth(0).locator("td").all_inner_texts() == ["$160", "$170"]
    assert rows.nth(6).locator("td").all_inner_texts() == ["In stock", "Out of stock"]
    # a screen reader hears a cell with its row and column
    cell = page.get_by_role("cell", name="Out of stock")
    expect(cell).to_have_count(1)

    region = page.get_by_role("region", name="Comparing Stub Jacket 1 and Stub Jacket 2")
    sizes = region.evaluate("n => ({scroll: n.scrollWidth, client: n.clientWidth})")
    page_width = page.evaluate("() => document.scrollingElement.scrollWidth")
    log = page.locator(".aisle-log").evaluate("n => ({scroll: n.scrollWidth, client: n.clientWidth})")
    width = DEVICES[device]["viewport"]["width"]
    assert page_width <= width and log["scroll"] <= log["client"]  # the page and the log stay put
    if device == "mobile":  # too wide for 390 px: the table scrolls in its own box, by keyboard too
        assert sizes["scroll"] > sizes["client"]
        region.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("() => document.querySelector('.aisle-compare').scrollLeft > 0")
        label = table.locator("tbody th[scope=row]").first
        assert label.evaluate("n => getComputedStyle(n).position") == "sticky"  # labels stay in view
    else:
        assert sizes["scroll"] <= sizes["client"]
    page.screenshot(path=str(artifacts / f"widget-compare-{device}.png"))
    assert errors == []
    ctx.close()
