"""The agent desk's reading of a conversation: what the shopper is looking for as short chips
("rain jackets · women · under $150 · not Northpeak"), why the bot handed over, what it did,
and one summary line. Pure functions over Rasa's tracker, the products shown and the shop's
audit log (``bot.shop_activity``); the raw slots stay available behind the desk's "details".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from common.money import format_money

HUMAN_INTENTS = {"contact_human_agent", "contact_customer_service"}
FALLBACK_INTENTS = {"nlu_fallback", "out_of_scope"}
ORDER_REQUESTS = {
    "track_order": "track an order", "cancel_order": "cancel an order",
    "change_order": "change an order", "change_shipping_address": "change a delivery address",
    "get_refund": "return an order", "track_refund": "check a refund", "get_invoice": "get an invoice",
}
ACTIONS = {
    "action_recommend_products": "Searched the catalog",
    "action_show_more": "Showed more products",
    "action_more_like_this": "Showed similar products",
    "action_reject_product": "Took a rejected product out",
    "action_product_details": "Gave product details",
    "action_compare_products": "Compared two products",
    "action_start_over": "Started the search over",
    "action_view_cart": "Showed the cart",
    "action_order_request": "Handled the order request",
    "action_answer_faq": "Answered from the FAQ",
    "action_handoff": "Handed over to a human",
    "action_handle_complaint": "Handled a complaint",
    "action_default_fallback": "Did not understand",
}
GENDERS = {"women": "women", "men": "men", "kids": "kids", "unisex": "unisex"}


def _money(amount: Any) -> str:
    try:
        return format_money(float(amount), "USD")
    except (TypeError, ValueError):
        return str(amount)


def shopping_chips(constraints: Any) -> list[str]:
    """The running search (the ``search_constraints`` slot) in the shopper's terms."""
    c = constraints if isinstance(constraints, dict) else {}
    chips: list[str] = []
    what = c.get("product_type") or c.get("category")
    if what:
        chips.append(str(what).lower())
    if c.get("gender") in GENDERS:
        chips.append(GENDERS[c["gender"]])
    chips += [str(v) for v in c.get("colors") or []]
    chips += [str(v) for v in c.get("brands") or []]
    chips += [str(v) for v in c.get("materials") or []]
    chips += [f"size {v}" for v in c.get("sizes") or []]
    lo, hi = c.get("price_min"), c.get("price_max")
    if lo is not None and hi is not None:
        chips.append(f"{_money(lo)}–{_money(hi)}")
    elif hi is not None:
        chips.append(f"under {_money(hi)}")
    elif lo is not None:
        chips.append(f"over {_money(lo)}")
    if c.get("min_rating") is not None:
        chips.append(f"rated {float(c['min_rating']):g}+")
    chips += [f"not {v}" for v in c.get("exclude_brands") or []]
    chips += [f"not {v}" for v in c.get("exclude_colors") or []]
    chips += [f"no {v}" for v in c.get("exclude_materials") or []]
    chips += [f"“{v}”" for v in c.get("keywords") or []][:3]
    return list(dict.fromkeys(chips))


def _user_events(tracker: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in tracker.get("events") or [] if e.get("event") == "user"]


def _intent(event: dict[str, Any]) -> str | None:
    return ((event.get("parse_data") or {}).get("intent") or {}).get("name")


def handoff_reason(tracker: dict[str, Any]) -> str:
    """Why the bot handed over, from the last shopper turns and the slots."""
    slots = tracker.get("slots") or {}
    users = _user_events(tracker)
    last = _intent(users[-1]) if users else None
    if last in HUMAN_INTENTS:
        return "Asked for a human"
    if last == "complaint":
        return "Complaint"
    try:
        failures = float(slots.get("verification_failures") or 0)
    except (TypeError, ValueError):
        failures = 0
    if failures >= 3:
        return "Could not verify the order (e-mail did not match)"
    recent = [_intent(e) for e in users[-2:]]
    if last in FALLBACK_INTENTS or (recent and all(i in FALLBACK_INTENTS for i in recent)):
        return "The bot did not understand"
    return "Handed over by the bot"


def order_context(tracker: dict[str, Any]) -> dict[str, Any]:
    """{"order", "verified", "email", "request"} of what the bot knew about an order."""
    slots = tracker.get("slots") or {}
    verified = slots.get("verified_order_id")
    order = verified or slots.get("order_id")
    context: dict[str, Any] = {}
    if order:
        context["order"] = str(order)
        context["verified"] = bool(verified)
    if slots.get("email"):
        context["email"] = str(slots["email"])
    if slots.get("order_request") in ORDER_REQUESTS:
        context["request"] = ORDER_REQUESTS[slots["order_request"]]
    return context


def _iso(epoch: Any) -> str | None:
    try:
        return datetime.fromtimestamp(float(epoch), UTC).isoformat(timespec="seconds").replace(
            "+00:00", "Z")
    except (TypeError, ValueError, OverflowError):
        return None


def bot_actions(tracker: dict[str, Any], shop_events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the bot did, oldest first: its actions (with the words that led to them) and the
    changes it made in the shop, without repeats in a row."""
    out: list[dict[str, Any]] = []
    said = ""
    order = order_context(tracker).get("order")
    for ev in tracker.get("events") or []:
        if ev.get("event") == "user":
            text = str(ev.get("text") or "")
            said = "" if text.startswith("/") else text
        elif ev.get("event") == "action" and ev.get("name") in ACTIONS:
            label = ACTIONS[ev["name"]]
            if ev["name"] in ("action_recommend_products", "action_answer_faq") and said:
                label = f"{label}: “{said[:60]}”"
            elif ev["name"] == "action_order_request" and order:
                label = f"{label} for {order}"
            if out and out[-1]["text"] == label:
                continue
            out.append({"time": _iso(ev.get("timestamp")), "text": label, "kind": "bot"})
    out += [{"time": e.get("time"), "text": e["text"], "kind": "shop"} for e in shop_events]
    return sorted(out, key=lambda a: a["time"] or "")


def summary(chips: list[str], context: dict[str, Any], reason: str | None,
            products_shown: list[dict[str, Any]], shop_events: list[dict[str, Any]],
            customer: str | None = None) -> str:
    """One line: who, what they look for or need, what happened, why a human is here."""
    parts: list[str] = []
    if customer:
        parts.append(customer)
    if chips:
        parts.append("looking for " + " · ".join(chips[:6]))
    shown = sum(len(s.get("items") or []) for s in products_shown)
    if shown:
        parts.append(f"saw {shown} product{'s' if shown != 1 else ''}")
    if context.get("order"):
        state = "verified" if context.get("verified") else "not verified"
        wants = f" (wants to {context['request']})" if context.get("request") else ""
        parts.append(f"order {context['order']}, {state}{wants}")
    if shop_events:
        parts.append(f"{len(shop_events)} change{'s' if len(shop_events) != 1 else ''} in the shop")
    if reason:
        parts.append(reason.lower() if parts else reason)
    if not parts:
        return "No search or order yet."
    line = "; ".join(parts)
    return line[0].upper() + line[1:] + "."
