"""axe-core (from npm, tests/browser/package.json; `make setup` installs it) on the storefront
with the widget and on the agent desk, desktop and phone: no serious or critical violation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.browser.helpers import (
    DESKTOP,
    MOBILE,
    WAIT,
    login,
    open_widget,
    resolved_pair,
    waiting_conversation,
)

pytestmark = [pytest.mark.browser]
AXE = Path(__file__).resolve().parent / "node_modules/axe-core/axe.min.js"
SUMMARY: dict[str, dict[str, int]] = {}


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed ({AXE.relative_to(AXE.parents[3])} missing): "
                    "run `make setup` (npm ci --prefix tests/browser)")
    return AXE.read_text(encoding="utf-8")


def run_axe(page, source: str) -> tuple[list[dict], int]:
    """(violations, number of rules passed) of the page as it is now."""
    page.add_script_tag(content=source)  # the context bypasses the page's CSP for this
    result = page.evaluate(
        "() => axe.run(document, {"
        " runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa',"
        " 'best-practice']}})")
    violations = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
                   "nodes": [n["target"] for n in v["nodes"]][:5]} for v in result["violations"]]
    return violations, len(result["passes"])


def check(page, source: str, name: str, artifacts: Path) -> None:
    violations, passed = run_axe(page, source)
    counts: dict[str, int] = {"rules passed": passed}
    for v in violations:
        counts[v["impact"] or "unknown"] = counts.get(v["impact"] or "unknown", 0) + 1
    SUMMARY[name] = counts
    (artifacts / f"axe-{name}.json").write_text(json.dumps(violations, indent=2), encoding="utf-8")
    (artifacts / "axe-summary.json").write_text(json.dumps(SUMMARY, indent=1), encoding="utf-8")
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{name}: {json.dumps(serious, indent=1)}"


@pytest.mark.parametrize("device", ["desktop", "mobile"])
def test_widget_with_products_has_no_serious_violations(browser, stub_gateway, axe_source,
                                                        artifacts, device):
    from playwright.sync_api import expect

    ctx = browser.new_context(**(DESKTOP if device == "desktop" else MOBILE), bypass_csp=True)
    page = ctx.new_page()
    box = open_widget(page, stub_gateway.url)
    expect(page.get_by_role("group", name="Suggestions")).to_be_visible()
    check(page, axe_source, f"widget-greeting-{device}", artifacts)
    box.fill("show me green jackets")
    box.press("Enter")
    expect(page.locator(".aisle-card")).to_have_count(6, timeout=WAIT)
    box.fill("show me running shoes")
    box.press("Enter")
    expect(page.locator(".aisle-products")).to_have_count(2, timeout=WAIT)
    check(page, axe_source, f"widget-products-{device}", artifacts)
    ctx.close()


@pytest.mark.parametrize("device", ["desktop", "mobile"])
def test_desk_with_a_claimed_conversation_has_no_serious_violations(browser, stub_gateway,
                                                                   axe_source, artifacts, device):
    from playwright.sync_api import expect

    conv_id, _ = waiting_conversation(stub_gateway.url)
    ctx = browser.new_context(**(DESKTOP if device == "desktop" else MOBILE), bypass_csp=True)
    desk = ctx.new_page()
    desk.goto(stub_gateway.url + "/desk")
    expect(desk.get_by_label("Name")).to_be_visible()
    check(desk, axe_source, f"desk-login-{device}", artifacts)
    login(desk, stub_gateway.url)
    desk.locator(f'.queue-item[data-conversation-id="{conv_id}"]').click()
    desk.get_by_role("button", name="Claim").click()
    expect(desk.get_by_label("Reply to shopper")).to_be_focused()
    desk.get_by_label("Internal note (agents only)").check()
    desk.get_by_label("Reply to shopper").fill("checked by axe")
    desk.get_by_label("Reply to shopper").press("Enter")
    expect(desk.locator(".line-note")).to_have_count(1)
    desk.get_by_text("Details: slots and intents").click()
    check(desk, axe_source, f"desk-conversation-{device}", artifacts)
    desk.get_by_role("button", name="Hand back to bot").click()
    expect(desk.locator("#conv-status")).to_have_text("with the bot")
    ctx.close()


@pytest.mark.parametrize("device", ["desktop", "mobile"])
def test_widget_with_chooser_mini_cart_and_comparison_has_no_serious_violations(
        browser, stub_gateway, axe_source, artifacts, device):
    from playwright.sync_api import expect

    ctx = browser.new_context(**(DESKTOP if device == "desktop" else MOBILE), bypass_csp=True)
    page = ctx.new_page()
    box = open_widget(page, stub_gateway.url)
    box.fill("compare the first two")
    box.press("Enter")
    expect(page.get_by_role("table")).to_be_visible(timeout=WAIT)
    box.fill("show me green jackets")
    box.press("Enter")
    expect(page.locator(".aisle-card")).to_have_count(6, timeout=WAIT)
    # a chooser left open with its error showing, and one added to the cart
    first, second = page.locator(".aisle-card").nth(0), page.locator(".aisle-card").nth(1)
    second.get_by_role("button", name="Add to cart: Stub Jacket 1").click()
    second.get_by_label("Size").select_option("M")
    second.get_by_label("Colour").select_option("navy")
    second.get_by_role("button", name="Add Stub Jacket 1 to cart").click()
    expect(page.locator(".aisle-cart-btn")).to_have_accessible_name("Cart, 1 item", timeout=WAIT)
    first.get_by_role("button", name="Add to cart: Trail Runner 2").click()
    first.get_by_role("button", name="Add Trail Runner 2 to cart").click()
    expect(first.locator(".aisle-choose-error")).to_have_text("Please choose a size.")
    page.locator(".aisle-cart-btn").click()
    expect(page.get_by_role("region", name="Your cart")).to_be_visible()
    check(page, axe_source, f"widget-cart-compare-{device}", artifacts)
    ctx.close()


@pytest.mark.parametrize("device", ["desktop", "mobile"])
def test_desk_with_unread_badges_and_resolved_search_has_no_serious_violations(
        browser, stub_gateway, axe_source, artifacts, device):
    from playwright.sync_api import expect

    waiting_conversation(stub_gateway.url)  # an unread badge in the waiting list
    ctx = browser.new_context(**(DESKTOP if device == "desktop" else MOBILE), bypass_csp=True)
    desk = ctx.new_page()
    login(desk, stub_gateway.url)
    _, word, _, by_word = resolved_pair(stub_gateway.url, desk)
    expect(desk.locator("#waiting .unread").first).to_be_visible(timeout=WAIT)
    desk.get_by_role("searchbox", name="Search resolved").fill(word)
    expect(desk.locator("#resolved .queue-item")).to_have_count(1, timeout=WAIT)
    expect(desk.locator("#resolved-found")).to_contain_text("1 conversation matches")
    check(desk, axe_source, f"desk-search-{device}", artifacts)
    ctx.close()
