"""The shop's policies as constants and pure functions (no database), so they are easy to read and test.

These are the rules the FAQ (data/faq/faq.yml) describes to shoppers; change both together.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

# Returns: 30 days from the delivery date, inclusive of day 30.
RETURN_WINDOW_DAYS = 30
# Cancelling is free while an order is pending or processing; after that it cannot be cancelled.
CANCELLATION_FEE_CENTS = 0
# A refund reaches the original payment method within these many days of being created:
# a cancellation refund is released at once by us; a return refund waits for the parcel to come back.
CANCELLATION_REFUND_DAYS = 5
RETURN_REFUND_DAYS = 10
# A return comes with a prepaid label; the parcel should be handed to the carrier within these
# many days of starting the return.
RETURN_SHIP_DAYS = 14
# Delivery promises used for estimated delivery dates.
DELIVERY_DAYS = {"standard": 5, "express": 2, "next_day": 1}
MAX_QUANTITY = 99

# Words in a return reason that mean the fault is ours: then the original shipping fee is
# refunded too, provided the return covers everything still kept from the order.
SHOP_FAULT_WORDS = (
    "damaged",
    "defective",
    "broken",
    "faulty",
    "wrong",
    "missing part",
    "not as described",
)

_ORDER_ID = re.compile(r"^(?:order|ord|no\.?|number|nr\.?)?\s*[#:_\-\s]*\s*(\d{5})$", re.IGNORECASE)
_INVOICE_ID = re.compile(r"^(?:invoice|inv|no\.?)?\s*[#:_\-\s]*\s*(\d{5})$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)


def normalise_order_id(text: str | None) -> str | None:
    """``"ord 10427"``, ``"ord-10427"``, ``"#10427"``, ``"10427"`` → ``"ORD-10427"``; else None."""
    if not text:
        return None
    match = _ORDER_ID.match(text.strip())
    return f"ORD-{match.group(1)}" if match else None


def normalise_invoice_id(text: str | None) -> str | None:
    """``"inv 20427"``, ``"INV-20427"``, ``"#20427"`` → ``"INV-20427"``; else None."""
    if not text:
        return None
    match = _INVOICE_ID.match(text.strip())
    return f"INV-{match.group(1)}" if match else None


def normalise_email(text: str | None) -> str | None:
    """Trimmed, lower-cased e-mail address, or None when it does not look like one."""
    if not text:
        return None
    email = text.strip().strip("<>").lower()
    return email if _EMAIL.match(email) else None


def return_deadline(delivered_at: datetime) -> datetime:
    """Last moment a return can be requested: the end of day RETURN_WINDOW_DAYS after delivery."""
    day = delivered_at.replace(hour=23, minute=59, second=59, microsecond=0)
    return day + timedelta(days=RETURN_WINDOW_DAYS)


def return_ship_by(requested_at: datetime) -> datetime:
    """Last day to send the parcel of a return started at ``requested_at`` (prepaid label)."""
    return requested_at + timedelta(days=RETURN_SHIP_DAYS)


def within_return_window(delivered_at: datetime, now: datetime) -> bool:
    return now <= return_deadline(delivered_at)


def is_shop_fault(reason: str | None) -> bool:
    """True when the return reason says the item arrived damaged, defective or wrong."""
    text = (reason or "").lower()
    return any(word in text for word in SHOP_FAULT_WORDS)


def return_refund_cents(
    returned_cents: int, shipping_cents: int, *, returns_everything_left: bool, reason: str | None
) -> int:
    """Refund for a return: the price of the returned items; plus the original shipping fee
    when the fault is ours and nothing of the order is kept. Return shipping is always free."""
    refund = returned_cents
    if returns_everything_left and is_shop_fault(reason):
        refund += shipping_cents
    return refund


def cancellation_refund_cents(total_cents: int) -> int:
    """Refund for a cancelled order: everything paid (items and shipping) minus the fee."""
    return max(0, total_cents - CANCELLATION_FEE_CENTS)


def valid_address_text(text: str) -> bool:
    """A free-text address must have a street number or postcode (a digit) and a few words."""
    text = text.strip()
    return (
        len(text) >= 10
        and any(ch.isdigit() for ch in text)
        and sum(ch.isalpha() for ch in text) >= 4
    )


# Return reasons the shopper picks from, each with words that mean it in a free-text answer.
# The labels are stored as the return's reason; "arrived damaged or faulty", "wrong item sent"
# and "not as described" contain SHOP_FAULT_WORDS, so they refund the original shipping too.
RETURN_REASONS: dict[str, tuple[str, ...]] = {
    "doesn't fit": (
        "fit", "fits", "small", "big", "large", "tight", "loose", "too short", "too long", "size",
        "narrow", "too wide",
    ),
    "arrived damaged or faulty": (
        "damaged", "damage", "broken", "broke", "faulty", "defective", "defect", "torn", "ripped",
        "cracked", "stain", "stained", "doesn't work", "does not work", "not working", "stopped working",
        "missing part",
    ),
    "wrong item sent": ("wrong item", "wrong one", "wrong colour", "wrong color", "wrong size", "not what i ordered", "sent the wrong", "different item"),
    "not as described": ("not as described", "looks different", "different from", "not like the picture", "poor quality", "cheap looking"),
    "changed my mind": ("changed my mind", "change of mind", "don't like", "do not like", "don't want", "do not want", "don't need", "no longer need", "not needed", "found it cheaper", "ordered by mistake", "by mistake"),
}  # fmt: skip
OTHER_REASON = "other"
_WORDS = re.compile(r"[a-z']+")


def classify_return_reason(text: str | None) -> str | None:
    """The RETURN_REASONS label a free-text answer names ("it's too small" → "doesn't fit"),
    or None when it names none. A listed label itself matches too (the buttons send it)."""
    text = " ".join((text or "").lower().replace("’", "'").split())
    if not text:
        return None
    for label in (*RETURN_REASONS, OTHER_REASON):
        if text.strip(" .!") == label:
            return label
    words = set(_WORDS.findall(text))
    # most specific first: a "wrong size" is a wrong item, not a fit problem
    for label in ("wrong item sent", "arrived damaged or faulty", "not as described",
                  "changed my mind", "doesn't fit"):  # fmt: skip
        for cue in RETURN_REASONS[label]:
            if (" " in cue and cue in text) or cue in words:
                return label
    return None


# Carriers' public tracking pages, filled with the tracking number.
TRACKING_URLS = {
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "ups": "https://www.ups.com/track?tracknum={number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "dhl": "https://www.dhl.com/us-en/home/tracking/tracking-parcel.html?tracking-id={number}",
}


def tracking_url(carrier: str | None, number: str | None) -> str | None:
    """The carrier's tracking page for this parcel, or None for an unknown carrier or no number."""
    template = TRACKING_URLS.get((carrier or "").strip().lower())
    if not template or not number:
        return None
    return template.format(number="".join(str(number).split()))
