"""Shared bits of the browser tests: viewports, logging in, contrast and target-size checks."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import AGENT_NAME, AGENT_PASSWORD

DESKTOP = {"viewport": {"width": 1280, "height": 860}}
MOBILE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
          "device_scale_factor": 2}
WAIT = 15_000  # ms, against the stub Rasa (answers at once, or after 1.5 s when asked "slowly")

# WCAG relative luminance and contrast, and the colour a focus ring is drawn over
CONTRAST_JS = """
(el) => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const backdrop = (node) => {  // the first opaque background behind the element's ring
    for (let n = node.parentElement; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const style = getComputedStyle(el);
  const ring = rgb(style.outlineColor).slice(0, 3);
  return { ratio: ratio(ring, backdrop(el)), width: parseFloat(style.outlineWidth),
           outline: style.outlineStyle };
}
"""

SMALL_TARGETS_JS = """  // a checkbox's target is its whole label
(root) => [...root.querySelectorAll('button, a, input')]
  .filter((n) => n.offsetParent !== null && n.getClientRects().length)
  .map((n) => { const r = (n.type === 'checkbox' && n.closest('label') || n).getBoundingClientRect();
                return { name: (n.getAttribute('aria-label') || n.textContent || n.className).trim(),
                         w: r.width, h: r.height }; })
  .filter((t) => t.w < 44 || t.h < 44)
"""


def focus_ring(locator: Any) -> dict[str, Any]:
    return locator.evaluate(CONTRAST_JS)


def login(page: Any, base_url: str, name: str = AGENT_NAME, password: str = AGENT_PASSWORD) -> None:
    from playwright.sync_api import expect

    page.goto(base_url + "/desk")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("body")).to_have_attribute("data-connected", "1")


def open_widget(page: Any, base_url: str) -> Any:
    from playwright.sync_api import expect

    page.goto(base_url + "/")
    page.get_by_role("button", name="Chat with us").click()
    box = page.get_by_role("textbox", name="Your message")
    expect(box).to_be_focused()
    return box


def conversation_id(page: Any) -> str:
    """The widget's conversation, from its localStorage entry."""
    return page.evaluate("() => JSON.parse(Object.entries(localStorage).find(([k]) => "
                         "k.startsWith('aisle.conversation:'))[1]).id")


def waiting_conversation(base_url: str, *texts: str) -> tuple[str, str]:
    """A conversation made through the shopper API that asked for a human: (id, token)."""
    import json
    import urllib.request

    def post(path: str, body: dict, token: str | None = None) -> dict:
        request = urllib.request.Request(base_url + path, data=json.dumps(body).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    created = post("/api/conversations", {})
    conv_id, token = created["conversation_id"], created["token"]
    for text in texts or ("show me green jackets", "I want a human"):
        post(f"/api/conversations/{conv_id}/messages", {"text": text}, token)
    return conv_id, token


def resolved_pair(base_url: str, page) -> tuple[str, str, str, str]:
    """Two conversations the desk (``page``, logged in) resolved: one about an order with this
    run's own number, one whose shopper wrote this run's own word. (order id, word, ids…)"""
    import secrets

    order, word = f"ORD-{secrets.randbelow(900_000) + 100_000}", f"zebra{secrets.token_hex(3)}"
    by_order, _ = waiting_conversation(base_url, f"where is {order}", "agent please")
    by_word, _ = waiting_conversation(base_url, f"my {word} umbrella broke", "I want a human")
    for conv_id in (by_order, by_word):
        for step in ("claim", "close"):
            assert page.request.post(f"{base_url}/api/desk/conversations/{conv_id}/{step}").ok
    return order, word, by_order, by_word
