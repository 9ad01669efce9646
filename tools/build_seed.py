"""Regenerate customers.json and orders.json (deterministic; the JSON files are the source the
shop is seeded from, and can also be edited by hand).

    python -m tools.generate_catalog && python -m tools.build_seed

Item titles and prices are copied from the demo catalog, so rerun this when the catalog
generator changes. Orders ORD-10401 (processing) and ORD-10427 (shipped) belong to
maya.tan@example.com, as data/shop/README.md promises.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CATALOG = HERE.parent / "catalog" / "products.jsonl"

FIRST = ["Maya", "Liam", "Priya", "Noah", "Sofia", "Ethan", "Aisha", "Lucas", "Hannah", "Mateo",
         "Chloe", "Omar", "Grace", "Daniel", "Yuki", "Elena", "Jonas", "Zara", "Samuel", "Fatima",
         "Oliver", "Nina", "Kai", "Leah", "Marcus"]  # fmt: skip
LAST = ["Tan", "Walker", "Sharma", "Becker", "Rossi", "Nguyen", "Khan", "Silva", "Fischer", "Garcia",
        "Dubois", "Haddad", "Okafor", "Kim", "Sato", "Petrov", "Berg", "Ali", "Osei", "Rahman",
        "Brown", "Novak", "Lee", "Cohen", "Reid"]  # fmt: skip
STREETS = ["Harbour Street", "Maple Avenue", "Oak Lane", "Pine Road", "Elm Court", "Cedar Drive",
           "Birch Way", "Willow Street", "Lakeview Road", "Hillside Avenue"]  # fmt: skip
CITIES = [("Portland", "OR", "97205"), ("Austin", "TX", "78701"), ("Denver", "CO", "80202"),
          ("Seattle", "WA", "98101"), ("Chicago", "IL", "60601"), ("Boston", "MA", "02108"),
          ("Madison", "WI", "53703"), ("Raleigh", "NC", "27601")]  # fmt: skip
PRODUCT_IDS = ["P00012", "P00027", "P00041", "P00058", "P00093", "P00117", "P00135", "P00162",
               "P00188", "P00204", "P00231", "P00259", "P00276", "P00302", "P00318", "P00345",
               "P00367", "P00392", "P00410", "P00433", "P00455", "P00478", "P00501", "P00526",
               "P00549", "P00573", "P00598", "P00614", "P00639", "P00662", "P00687", "P00710",
               "P00735", "P00761", "P00788", "P00812", "P00847", "P00879", "P00903", "P00951",
               "P01004", "P01058", "P01112", "P01167", "P01200"]  # fmt: skip
CARRIERS = [("UPS", "1Z{}"), ("FedEx", "7{}"), ("USPS", "9400{}"), ("DHL", "JD{}")]
PAYMENTS = ["visa", "mastercard", "paypal", "amex", "apple_pay", "gift_card"]
RETURN_REASONS = ["too small", "changed my mind", "arrived damaged", "not as described",
                  "wrong colour sent", "didn't fit"]  # fmt: skip
# 60 orders: how many of each kind
PLAN = (["pending"] * 7 + ["processing"] * 9 + ["shipped"] * 10 + ["delivered_in"] * 14
        + ["delivered_out"] * 8 + ["cancelled"] * 5 + ["returned"] * 3 + ["refunded"] * 4)  # fmt: skip
FIRST_ORDER = 10401


def build_customers(rng: random.Random) -> list[dict]:
    customers = []
    for i, (first, last) in enumerate(zip(FIRST, LAST, strict=True), start=1):
        city = rng.choice(CITIES)
        addresses = [{"label": "home", "line1": f"{rng.randint(2, 980)} {rng.choice(STREETS)}",
                      "city": city[0], "postcode": f"{city[1]} {city[2]}", "country": "United States"}]  # fmt: skip
        if i % 4 == 0:
            work = rng.choice(CITIES)
            addresses.append({"label": "work", "line1": f"{rng.randint(100, 1500)} {rng.choice(STREETS)}",
                              "line2": f"Suite {rng.randint(100, 900)}", "city": work[0],
                              "postcode": f"{work[1]} {work[2]}", "country": "United States"})  # fmt: skip
        customers.append({"customer_ref": f"C{i:04d}", "name": f"{first} {last}",
                          "email": f"{first.lower()}.{last.lower()}@example.com",
                          "phone": f"+1-555-01{i:02d}", "joined_days_ago": rng.randint(40, 900),
                          "addresses": addresses})  # fmt: skip
    return customers


def shipping_fee(items: list[dict], option: str) -> float:
    """Standard $5.95, free from $75; express $12.95; next day $19.95 (as data/faq says)."""
    if option == "express":
        return 12.95
    if option == "next_day":
        return 19.95
    return 0.0 if sum(i["price"] * i["quantity"] for i in items) >= 75 else 5.95


def build_orders(rng: random.Random, customers: list[dict], products: list[tuple]) -> list[dict]:
    plan = list(PLAN)
    rng.shuffle(plan)
    for position, kind in ((0, "processing"), (26, "shipped")):  # the README's handy orders
        swap = next(i for i, k in enumerate(plan) if k == kind and i not in (0, 26))
        plan[position], plan[swap] = plan[swap], plan[position]

    orders = []
    for k, kind in enumerate(plan):
        customer = customers[0] if k == 26 else customers[k % len(customers)]
        option = rng.choices(["standard", "express", "next_day"], [7, 2, 1])[0]
        chosen = rng.sample(products, rng.choices([1, 2, 3, 4], [5, 4, 2, 1])[0])
        items = [{"product_id": pid, "title": title, "price": price,
                  "quantity": rng.choices([1, 2, 3], [8, 2, 1])[0]} for pid, title, price in chosen]  # fmt: skip
        order = {"order_id": f"ORD-{FIRST_ORDER + k}", "email": customer["email"], "status": None,
                 "delivery_option": option, "payment_method": rng.choice(PAYMENTS), "items": items,
                 "shipping": shipping_fee(items, option)}  # fmt: skip
        if len(customer["addresses"]) > 1 and rng.random() < 0.4:
            order["address"] = "work"
        carrier = rng.choice(CARRIERS)
        tracking = carrier[1].format(rng.randint(10**9, 10**10 - 1))
        if kind == "pending":
            order.update(status="pending", placed_days_ago=rng.choice([0, 0.2, 1]))
        elif kind == "processing":
            order.update(status="processing", placed_days_ago=rng.choice([1, 2, 3]))
        elif kind == "shipped":
            placed = rng.randint(2, 5)
            order.update(status="shipped", placed_days_ago=placed, shipped_days_ago=rng.randint(1, placed - 1),
                         carrier=carrier[0], tracking_number=tracking)  # fmt: skip
        elif kind in ("delivered_in", "delivered_out", "returned", "refunded"):
            if kind == "delivered_in":
                delivered = rng.randint(1, 28)
            elif kind == "delivered_out":
                delivered = rng.randint(35, 120)
            else:
                delivered = rng.randint(8, 25)
            shipped = delivered + rng.randint(1, 4)
            placed = shipped + rng.randint(1, 3)
            order.update(status="delivered" if kind.startswith("delivered") else kind,
                         placed_days_ago=placed, shipped_days_ago=shipped, delivered_days_ago=delivered,
                         carrier=carrier[0], tracking_number=tracking)  # fmt: skip
            if kind == "returned":
                order["return"] = {"requested_days_ago": rng.randint(1, min(delivered, 5)),
                                   "reason": rng.choice(RETURN_REASONS)}  # fmt: skip
            if kind == "refunded":
                requested = rng.randint(4, delivered)
                order["return"] = {"requested_days_ago": requested, "reason": rng.choice(RETURN_REASONS),
                                   "refund_issued_days_ago": rng.randint(0, requested - 3)}  # fmt: skip
        elif kind == "cancelled":
            placed = rng.randint(5, 40)
            cancelled = placed - rng.choice([0, 0.5, 1])
            order.update(status="cancelled", placed_days_ago=placed, cancelled_days_ago=cancelled,
                         cancel_reason=rng.choice(["ordered by mistake", "found it cheaper",
                                                   "no longer needed", None]))  # fmt: skip
            if cancelled > 4:
                order["refund_issued_days_ago"] = cancelled - 3
        orders.append({key: value for key, value in order.items() if value is not None})
    return orders


def main() -> int:
    if not CATALOG.exists():
        print(
            f"{CATALOG} is missing: run python -m tools.generate_catalog first",
            file=sys.stderr,
        )
        return 1
    catalog = {p["id"]: p for p in map(json.loads, CATALOG.read_text().splitlines())}
    products = [(pid, catalog[pid]["title"], catalog[pid]["price"]) for pid in PRODUCT_IDS]
    rng = random.Random(4)
    customers = build_customers(rng)
    orders = build_orders(rng, customers, products)
    for name, records in (("customers.json", customers), ("orders.json", orders)):
        (HERE / name).write_text(json.dumps(records, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(customers)} customers, {len(orders)} orders written to {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
