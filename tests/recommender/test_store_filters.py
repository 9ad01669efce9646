"""Every filter kind on both backends, against hand-checked answers from the fixture catalog."""

from __future__ import annotations

import pytest

from recommender.query import Constraints, to_filter
from recommender.store.base import FilterSpec

FOOTWEAR = {f"F0{i}" for i in range(1, 10)}
ALL = FOOTWEAR | {f"A{i:02d}" for i in range(1, 11)} | {f"E0{i}" for i in range(1, 6)} \
    | {f"H0{i}" for i in range(1, 5)} | {f"O0{i}" for i in range(1, 5)}
OUT_OF_STOCK = {"F04", "F09", "E04", "H04"}
BLACK = {"F04", "F05", "F07", "A02", "A03", "A07", "A08", "A09", "A10", "E01", "E02", "E03",
         "E04", "E05", "O04"}

# (constraints, expected ids) — in_stock_only=False unless the case is about stock
CASES = [
    (dict(colors=["red"]), {"F05", "F08", "A02", "A06", "E05", "O03"}),
    (dict(colors=["red", "navy"]), {"F05", "F08", "A02", "A06", "E05", "O03", "F02", "A01",
                                    "A04", "A07", "H04"}),
    (dict(exclude_colors=["black"]), ALL - BLACK),
    (dict(brands=["Salomon"]), {"F02", "F04", "F07"}),
    (dict(exclude_brands=["JBL"]), ALL - {"E03", "E04", "E05"}),
    (dict(materials=["leather"]), {"F01", "F04", "F09", "A10"}),
    (dict(exclude_materials=["leather"]), ALL - {"F01", "F04", "F09", "A10"}),
    (dict(sizes=["10"]), {"F01", "F02", "F03", "F04", "F05", "F07", "F08", "F09"}),
    (dict(category="Footwear"), FOOTWEAR),
    (dict(product_type="Hiking Boots"), {"F01", "F02", "F03", "F04"}),
    (dict(gender="women"), {"F03", "F06", "A01", "A04", "A05", "A06", "A10",
                            "F07", "F08", "F09", "A08", "O03"}),
    (dict(price_max=50), {"E03", "H01", "A07", "O04", "H02", "A05"}),
    (dict(price_min=100, price_max=150), {"F01", "F05", "F06", "F07", "A01", "A04", "E05"}),
    (dict(min_rating=4.7), {"F04", "F07", "A03", "A08", "E01", "E02", "H01", "O01", "O04"}),
    (dict(in_stock_only=True), ALL - OUT_OF_STOCK),
    (dict(product_type="Hiking Boots", sizes=["10"], in_stock_only=True, exclude_materials=["leather"]),
     {"F02", "F03"}),
]


@pytest.mark.parametrize(("fields", "expected"), CASES, ids=[str(c[0]) for c in CASES])
def test_filter_kinds(loaded_store, encoder, fields, expected):
    fields = {"in_stock_only": False, **fields}
    spec = to_filter(Constraints(**fields))
    assert loaded_store.count(spec) == len(expected)
    hits = loaded_store.search(encoder.encode_query("something nice"), None, spec, limit=100)
    assert {h.product_id for h in hits} == expected
    # the hybrid query obeys the same filter
    from recommender.bm25 import query_vector

    fused = loaded_store.search(encoder.encode_query("boots"), query_vector("boots"),
                                spec, limit=100)
    assert {h.product_id for h in fused} <= expected


def test_exclude_ids(loaded_store, encoder):
    spec = to_filter(Constraints(product_type="Hiking Boots", in_stock_only=False), ["F01", "F02"])
    hits = loaded_store.search(encoder.encode_query("hiking boots"), None, spec, 10)
    assert {h.product_id for h in hits} == {"F03", "F04"}


def test_get_count_and_hashes(loaded_store):
    assert loaded_store.count() == 32
    assert loaded_store.count(FilterSpec()) == 32
    got = loaded_store.get(["E02", "missing", "A05"], with_vectors=True)
    assert [h.product_id for h in got] == ["E02", "A05"]
    assert got[0].payload["brand"] == "Sony" and got[0].text_vector.shape == (384,)
    hashes = loaded_store.scroll_hashes()
    assert set(hashes) == ALL and all(a and b for a, b in hashes.values())


def test_keyword_only_search_finds_rare_term(loaded_store):
    from recommender.bm25 import query_vector

    hits = loaded_store.search(None, query_vector("vibram"), None, 5)
    assert hits and hits[0].product_id == "F01"


def test_recommend_uses_positive_and_negative_examples(loaded_store):
    liked = loaded_store.get(["E01"], with_vectors=True)[0].text_vector
    hits = loaded_store.recommend([liked], [], to_filter(Constraints(in_stock_only=False), ["E01"]), 3)
    assert hits[0].product_id == "E02"  # the other noise-cancelling headphones
