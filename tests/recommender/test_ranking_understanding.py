"""Rerank normalisation and the query-understanding rules added after the per-query analysis
of data/eval: material families, a head noun naming one product type, spec terms."""

from __future__ import annotations

import pytest

from recommender.query import (
    Constraints,
    Vocabulary,
    apply_turn,
    kind_of,
    material_matches,
    query_text,
    same_kind,
    to_filter,
)
from recommender.ranking import SHIPPED, Weights, mmr, rerank, violations
from recommender.store.base import AnyOf, Hit

VOCAB = Vocabulary.from_products([
    {"brand": "A", "category": ["Apparel", "Knitwear", "Sweaters"], "materials": ["wool"], "price": 50},
    {"brand": "B", "category": ["Apparel", "Knitwear", "Sweaters"], "materials": ["merino wool"], "price": 60},
    {"brand": "C", "category": ["Footwear", "Shoes", "Dress Shoes"], "materials": ["nubuck leather"], "price": 90},
    {"brand": "D", "category": ["Footwear", "Shoes", "Dress Shoes"], "materials": ["protein leather"], "price": 70},
    {"brand": "E", "category": ["Footwear", "Shoes", "Dress Shoes"], "materials": ["leather"], "price": 80},
    {"brand": "F", "category": ["Electronics", "Audio", "Bluetooth Speakers"], "materials": ["plastic"], "price": 40},
    {"brand": "G", "category": ["Electronics", "Audio", "Headphones"], "materials": ["plastic"], "price": 90},
    {"brand": "H", "category": ["Outdoor", "Jackets", "Rain Jackets"], "materials": ["nylon"], "price": 90},
    {"brand": "I", "category": ["Outdoor", "Jackets", "Down Jackets"], "materials": ["down"], "price": 190},
])


@pytest.mark.parametrize(
    ("wanted", "material", "expected"),
    [
        ("wool", "wool", True),
        ("wool", "merino wool", True),
        ("leather", "nubuck leather", True),
        ("leather", "protein leather", False),  # an imitation is not the real thing
        ("protein leather", "protein leather", True),
        ("cotton", "cotton sateen", True),
        ("cast iron", "enamelled cast iron", True),
        ("wool", "woollen", False),
        ("merino wool", "wool", False),  # narrower wish, broader material: no
        ("wool", "lambswool", True),  # a compound ending in it
        ("wax", "beeswax", True),
        ("leather", "pleather", False),
    ],
)
def test_material_matches(wanted, material, expected):
    assert material_matches(wanted, material) is expected


def test_a_word_of_a_material_names_it_when_the_titles_agree():
    socks = [{"title": f"Merino {kind} Sock", "category": ["Apparel", "Socks"], "materials": [m]}
             for kind, m in (("Crew", "merino wool"), ("Ankle", "merino wool"), ("Hiking", "merino wool"))]
    memory = [{"title": "Memory Card", "category": ["Electronics", "Cards"], "materials": ["plastic"]},
              {"title": "Memory Foam Pillow", "category": ["Home", "Pillows"], "materials": ["memory foam"]}]
    vocab = Vocabulary.from_products([*socks, *memory, {"title": "Wool Sock", "materials": ["wool"]}])
    assert apply_turn(Constraints(), "merino socks", [], vocab).materials == ["merino wool"]
    # "memory" titles are cards as often as pillows: the word alone names no material
    assert apply_turn(Constraints(), "memory pillow", [], vocab).materials == []


def test_a_title_word_picks_one_of_the_types_a_head_noun_ends():
    vocab = Vocabulary.from_products([
        {"title": "Stride Oxford Shoe", "category": ["Footwear", "Formal", "Dress Shoes"]},
        {"title": "Oxford Shirt", "category": ["Apparel", "Tops", "Shirts"]},
        {"title": "Road Running Shoe", "category": ["Footwear", "Athletic", "Running Shoes"]},
    ])
    assert apply_turn(Constraints(), "oxford shoes, men's 12", [], vocab).product_type == "Dress Shoes"
    assert apply_turn(Constraints(), "shoes for my dad", [], vocab).product_type is None


def _values(spec, key, negative=False):
    conds = spec.must_not if negative else spec.must
    return {v for c in conds if isinstance(c, AnyOf) and c.key == key for v in c.values}


def test_filter_uses_material_families_for_inclusion_and_exclusion():
    wool = to_filter(Constraints(materials=["wool"]), vocab=VOCAB)
    assert _values(wool, "materials") == {"wool", "merino wool"}
    no_leather = to_filter(Constraints(exclude_materials=["leather"]), vocab=VOCAB)
    assert _values(no_leather, "materials", negative=True) == {"leather", "nubuck leather"}
    # without the vocabulary the filter is the literal one, as before
    assert _values(to_filter(Constraints(materials=["wool"])), "materials") == {"wool"}


def test_violations_and_material_family():
    c = Constraints(materials=["wool"])
    assert "materials" not in violations({"materials": ["merino wool"]}, c)
    assert "materials" in violations({"materials": ["acrylic"]}, c)


@pytest.mark.parametrize(
    ("text", "product_type", "category"),
    [
        ("speaker i can take in the pool", "Bluetooth Speakers", None),  # one type ends in "speaker"
        ("a jacket for the rain season", None, "Jackets"),  # several types: their parent
    ],
)
def test_head_noun(text, product_type, category):
    c = apply_turn(Constraints(), text, [], VOCAB)
    assert (c.product_type, c.category) == (product_type, category)


@pytest.mark.parametrize(
    ("text", "spec", "not_keywords"),
    [
        ("power bank 20000mah", "20000 mah", {"mah"}),
        ("4k webcam for streaming", "4k", set()),
        ("fast charger 65w", "65 w", set()),
        ("dry bag 20 liters", "20 liter", {"liter"}),
        ("speaker under 100 dollars", None, {"100"}),  # a price is a filter, not a spec
    ],
)
def test_spec_terms_become_keywords(text, spec, not_keywords):
    c = apply_turn(Constraints(), text, [], VOCAB)
    if spec:
        assert spec in c.keywords
    else:
        assert not any(k[:1].isdigit() for k in c.keywords)
    assert not not_keywords & set(c.keywords)


def _hit(pid, score, rating=4.0, reviews=100, stock=True, title=None):
    return Hit(pid, score, {"id": pid, "title": title or pid, "rating": rating, "review_count": reviews,
                            "in_stock": stock})


# the formula with every prior on (a shop may switch them on; the shipped weights are the ablation's)
PRIORS = Weights(rating=0.10, reviews=0.05, stock=0.05, title=0.05, mmr=True)


def _order(hits, keywords=(), weights=PRIORS):
    return [r.hit.product_id for r in rerank(hits, list(keywords), weights=weights)]


def test_shipped_weights_are_those_the_ablation_kept():
    """Only the title term earned its place on both judged catalogs (ranking.Weights)."""
    assert Weights(rating=0.0, reviews=0.0, stock=0.0, title=0.05, mmr=False) == SHIPPED
    pool = [_hit("ok", 0.5, rating=3.6), _hit("great", 0.5, rating=4.9), TAIL]
    assert _order(pool, weights=SHIPPED) == ["ok", "great", "tail"]  # a rating is no reason
    assert set(SHIPPED.ablations()) == {"no title"}
    assert set(PRIORS.ablations()) == {"no rating", "no reviews", "no stock", "no title", "no mmr"}
    assert PRIORS.ablations()["no mmr"].mmr is False and PRIORS.ablations()["no title"].rating == 0.10


# What ranking.py promises: relevance dominates, the priors (rating, reviews, stock, title words)
# break near-ties. Each pool below has one right order; a "tail" candidate sets the pool's spread.
TAIL = _hit("tail", 0.0, rating=1.0, reviews=0)


def test_equal_relevance_higher_rating_first():
    pool = [_hit("ok", 0.5, rating=3.6), _hit("great", 0.5, rating=4.9), TAIL, _hit("good", 0.5, rating=4.2)]
    assert _order(pool) == ["great", "good", "ok", "tail"]


def test_equal_relevance_and_rating_more_reviews_first():
    pool = [_hit("few", 0.5, reviews=3), _hit("many", 0.5, reviews=800), TAIL, _hit("some", 0.5, reviews=60)]
    assert _order(pool) == ["many", "some", "few", "tail"]


def test_equal_relevance_out_of_stock_last():
    pool = [_hit("gone", 0.5, stock=False), _hit("here", 0.5), _hit("also_here", 0.5, reviews=99)]
    assert _order(pool)[-1] == "gone"


def test_query_words_in_the_title_break_a_tie():
    pool = [_hit("plain", 0.5, title="Trail Runner"), _hit("named", 0.5, title="Waterproof Trail Runner"), TAIL]
    assert _order(pool, ["waterproof"]) == ["named", "plain", "tail"]
    assert _order(pool) == ["plain", "named", "tail"]  # without the keyword: input order (stable sort)


def test_priors_decide_a_near_tie():
    """Relevance 1.0 vs 0.99 of the pool's spread: the better-rated, more-reviewed product wins."""
    pool = [_hit("fits", 1.0, rating=3.0, reviews=2), _hit("loved", 0.99, rating=4.9, reviews=900), TAIL]
    assert _order(pool) == ["loved", "fits", "tail"]


# RRF scores of a 100-candidate pool: 1st of both lists 2/61, 10th of both 2/70, last 2/160; the 1st
# is new (no rating, no reviews), the 10th has five stars and 900 reviews
RRF_POOL = [_hit("first", 2 / 61, rating=0.0, reviews=0), _hit("tenth", 2 / 70, rating=5.0, reviews=900),
            _hit("tail", 2 / 160, rating=5.0, reviews=1000)]


def test_a_much_more_relevant_product_is_not_overtaken_by_priors():
    """The 10th of the pool, with five stars and 900 reviews, stays behind the unrated 1st; the
    tail, with the most reviews of all, stays last."""
    assert _order(RRF_POOL) == ["first", "tenth", "tail"]
    assert _order(list(reversed(RRF_POOL))) == ["first", "tenth", "tail"]  # not the input order


def test_relevance_dominates_stock():
    pool = [_hit("in_stock_weak", 0.5), _hit("sold_out_best", 1.0, stock=False), TAIL]
    assert _order(pool) == ["sold_out_best", "in_stock_weak", "tail"]


def test_relevance_is_scaled_over_the_pool():
    ranked = {r.hit.product_id: r.relevance for r in rerank(RRF_POOL, weights=PRIORS)}
    assert ranked["first"] == pytest.approx(1.0) and ranked["tail"] == pytest.approx(0.0)
    assert 0.0 < ranked["tenth"] < 1.0
    # one candidate, or candidates that tie: each is fully relevant (no division by zero)
    assert [r.relevance for r in rerank([_hit("only", 0.03)])] == [1.0]
    assert [r.relevance for r in rerank([_hit("a", 0.4), _hit("b", 0.4)])] == [1.0, 1.0]
    assert rerank([]) == []



def test_children_s_products_come_after_the_others_unless_a_gender_is_named():
    kids_best = Hit("kids", 1.0, {"id": "kids", "title": "Kids' Dress", "gender": "kids", "rating": 5.0})
    pool = [kids_best, _hit("women", 0.1), TAIL]
    assert [r.hit.product_id for r in rerank(pool, adults_first=True)] == ["women", "tail", "kids"]
    picked = mmr(rerank(pool, adults_first=True), 2)  # diversity does not bring it back up
    assert [r.hit.product_id for r in picked] == ["women", "tail"]
    assert _order(pool)[0] == "kids"  # "for my daughter": gender kids, no demotion


def test_a_category_word_names_its_one_type_of_the_same_name():
    vocab = Vocabulary.from_products([
        {"title": "Canvas Low-Top", "category": ["Footwear", "Sneakers", "Casual Sneakers"]},
        {"title": "Road Runner", "category": ["Footwear", "Sneakers", "Running Shoes"]},
        {"title": "Trek Boot", "category": ["Footwear", "Boots", "Hiking Boots"]},
        {"title": "Snow Boot", "category": ["Footwear", "Boots", "Winter Boots"]},
    ])
    assert apply_turn(Constraints(), "sneakers, men's 9", [], vocab).product_type == "Casual Sneakers"
    boots = apply_turn(Constraints(), "boots please", [], vocab)
    assert (boots.product_type, boots.category) == (None, "Boots")  # two kinds of boot: the category
    running = Constraints(product_type="Running Shoes")
    assert apply_turn(running, "sneakers in blue", [], vocab).product_type == "Running Shoes"  # kept


# A marketplace files one kind under several names and names kinds after each other (issue 14)
HOME = Vocabulary.from_products([
    {"title": "Tessa 58'' Loveseat", "category": ["Furniture", "Sofas", "Loveseats"]},
    {"title": "Ardo Settee", "category": ["Furniture", "Loveseats & Settees"]},
    {"title": "Oak Platform Bed", "category": ["Furniture", "Bedroom", "Beds"]},
    {"title": "Bolster Dog Bed", "category": ["Pets", "Dog Beds"]},
    {"title": "Twin Storage Bed", "category": ["Kids", "Kids Beds"]},
    {"title": "Ruffled Bed Skirt", "category": ["Bedding", "Bed Skirts"]},
    {"title": "Shaker Cabinet", "category": ["Storage", "Cabinets"]},
    {"title": "Brass Knob, Set of 10", "category": ["Hardware", "Cabinet & Drawer Knobs"]},
    {"title": "Granite Sink 30in", "category": ["Kitchen", "Kitchen Sinks"]},
    {"title": "Sponge Holder", "category": ["Kitchen", "Sink Caddies"]},
    {"title": "Cushion Cover", "category": ["Decor", "Cushions"]},
    {"title": "Linen Duvet Cover", "category": ["Bedding", "Duvet Covers"]},
])


@pytest.mark.parametrize(("wanted", "have", "same", "kind"), [
    ("Loveseats", "Loveseats & Settees", True, True),
    ("Dining Chairs", "Kitchen & Dining Chairs", True, True),
    ("Mattress Toppers", "Mattress Pads & Toppers", True, True),  # "Toppers" keeps "Mattress"
    ("Running Shoes", "Running Shoes", True, True),
    ("Beds", "Dog Beds", False, True),  # a narrower kind: named by the shopper, or not filtered on
    ("Running Shoes", "Trail Running Shoes", False, True),
    ("Beds", "Bed Skirts", False, False),  # a skirt of a bed is no bed
    ("Cabinets", "Cabinet & Drawer Knobs", False, False),  # "cabinet" shares the head "knobs"
    ("Kitchen Sinks", "Sink Caddies", False, False),
])
def test_one_kind_filed_under_other_names(wanted, have, same, kind):
    assert same_kind(wanted, have) is same
    assert kind_of(wanted, have) is kind


def test_the_type_filter_takes_every_name_of_the_kind():
    c = apply_turn(Constraints(), "small loveseat for apartment", [], HOME)
    assert c.product_type == "Loveseats"
    spec = to_filter(c, vocab=HOME)
    assert AnyOf("product_type", ("Loveseats", "Loveseats & Settees")) in spec.must


@pytest.mark.parametrize(("text", "kind"), [
    ("brushed gold cabinet knobs", "Cabinet & Drawer Knobs"),  # the head comes last
    ("kitchen sink caddy", "Sink Caddies"),
    ("bed for a big dog", "Dog Beds"),  # the kind of bed the rest of the message names
    ("twin bed for kids with storage", "Kids Beds"),
    ("bed for my 7 year old", "Kids Beds"),
    ("velvet cushion covers", "Cushions"),  # no Duvet Covers: that type shares no word with it
    ("queen bed", "Beds"),
])
def test_the_type_is_the_head_of_the_request(text, kind):
    assert apply_turn(Constraints(), text, [], HOME).product_type == kind


def test_the_encoders_read_the_shopper_s_own_words_of_the_search():
    c = apply_turn(Constraints(), "dreser with mirror, not the oak one", [], Vocabulary.from_products(
        [{"title": "Six Drawer Dresser", "category": ["Bedroom", "Dressers"]},
         {"title": "Round Mirror", "category": ["Decor", "Mirrors"]}]))
    assert c.request == "dresser mirror"  # spelling fixed; filler and the refused words out
    assert query_text(c) == "dresser mirror"  # the type adds no word the shopper did not say
    later = apply_turn(c, "cheaper", [], HOME)
    assert later.request == c.request  # a refinement keeps the request; a new kind replaces it
    assert apply_turn(c, "show me loveseats", [], HOME).request == "loveseat"
