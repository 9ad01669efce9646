"""The recommender end to end on both backends: known right answers, relaxation, explanations."""

from __future__ import annotations

import pytest

from recommender.query import Constraints, ConversationState, apply_turn


def _say(rec, *messages, state=None, k=3):
    state = state or ConversationState()
    for text in messages:
        state.constraints = apply_turn(state.constraints, text, [], rec.vocabulary, state.shown_prices)
        state.user_turns = (state.user_turns + [text])[-3:]
    return state, rec.recommend(state, k=k)


@pytest.mark.parametrize(("messages", "top"), [
    (["noise cancelling headphones"], {"E01", "E02"}),
    (["waterproof hiking boots"], {"F01", "F02", "F04"}),
    (["a french press for coffee"], {"H02"}),
    (["tent for backpacking"], {"O01"}),
    (["rain jacket"], {"A01", "A02"}),
    (["linen dress for summer"], {"A05"}),
])
def test_known_right_answers(recommender_for, messages, top):
    _, result = _say(recommender_for, *messages)
    assert result.suggestions[0].id in top


def test_filters_and_negation_across_turns(recommender_for):
    state, result = _say(recommender_for, "hiking boots", "not Salomon", "no leather", k=5)
    ids = [s.id for s in result.suggestions]
    assert ids[0] == "F03"  # the only non-Salomon, non-leather boot
    assert "F02" not in ids and "F01" not in ids  # Salomon / leather never slip in through relaxation
    assert all(s.payload["brand"] != "Salomon" for s in result.suggestions)
    assert all("leather" not in s.payload["materials"] for s in result.suggestions)


def test_relaxes_price_and_says_so(recommender_for):
    # red items in stock under $50: none. Red up to $65: A06 ($59).
    _, result = _say(recommender_for, "red dress under $50", k=1)
    assert [s.id for s in result.suggestions] == ["A06"]
    assert result.relaxed == ["price up to $65 instead of $50"]
    assert "$59, outside under $50 ✗" in result.suggestions[0].explanation
    assert "red" in result.suggestions[0].matched


def test_relaxes_colour_after_price(recommender_for):
    _, result = _say(recommender_for, "yellow running shoes", k=2)
    assert len(result.suggestions) == 2
    assert result.relaxed == ["other colours than yellow"]
    assert all(s.payload["product_type"] == "Running Shoes" for s in result.suggestions)


def test_cheaper_shows_only_the_cheaper_exact_matches(recommender_for):
    state, first = _say(recommender_for, "running shoes", k=3)
    assert sorted(s.price for s in first.suggestions) == [110.0, 120.0, 135.0]
    state.shown_prices = [s.price for s in first.suggestions]
    _, cheaper = _say(recommender_for, "anything cheaper?", state=state, k=3)
    # one running shoe is under the new cap ($119): it alone, not sneakers to fill the page
    assert [s.id for s in cheaper.suggestions] == ["F06"] and cheaper.relaxed == []
    state.shown_prices = [110.0]
    _, none = _say(recommender_for, "cheaper", state=state, k=3)
    # no running shoe under $109: something else widens, said, and the cap still holds
    assert none.relaxed and all(s.price <= 109 for s in none.suggestions)


def test_no_relaxation_when_enough(recommender_for):
    _, result = _say(recommender_for, "running shoes", k=2)
    assert result.relaxed == [] and len(result.suggestions) == 2


def test_explanation_is_computed_from_the_match(recommender_for):
    _, result = _say(recommender_for, "waterproof hiking boots size 10 under $150 in brown", k=1)
    top = result.suggestions[0]
    assert top.id == "F01"
    assert top.explanation == ("brown ✓ · size 10 in stock ✓ · under $150 ✓ · hiking boots ✓ · "
                               "'waterproof' in title")
    assert top.matched == ["brown", "size 10 in stock", "under $150", "hiking boots", "waterproof"]


def test_out_of_stock_excluded_by_default(recommender_for):
    _, result = _say(recommender_for, "mountaineering boots", k=5)
    assert "F04" not in [s.id for s in result.suggestions]


def test_shown_items_are_not_repeated(recommender_for):
    state, first = _say(recommender_for, "headphones", k=1)
    state.shown_ids = [s.id for s in first.suggestions]
    second = recommender_for.recommend(state, k=1)
    assert second.suggestions[0].id != first.suggestions[0].id


def test_more_like_this_uses_liked_and_rejected(recommender_for):
    state = ConversationState(constraints=Constraints(), liked_ids=["F05"], rejected_ids=["F08"],
                              shown_ids=["F05"])
    result = recommender_for.recommend(state, k=3)
    ids = [s.id for s in result.suggestions]
    assert "F05" not in ids and "F08" not in ids
    assert result.suggestions[0].payload["category"][0] == "Footwear"


def test_payload_contract(recommender_for):
    _, result = _say(recommender_for, "coffee", k=2)
    payload = result.to_payload()
    assert set(payload) == {"type", "items", "relaxed"} and payload["type"] == "products"
    for item in payload["items"]:
        assert set(item) == {"id", "title", "price", "currency", "image_url", "url", "explanation", "matched"}
        assert item["image_url"] == f"/images/{item['id']}.svg"
    assert {"query", "encode", "retrieve", "rank", "relax", "explain", "total"} <= set(result.timings)


def test_product_lookup(recommender_for):
    product = recommender_for.product("E02")
    assert product is not None and product.brand == "Sony" and product.price == 349.0
    assert recommender_for.product("nope") is None
