"""rasa_ext/intent_evidence.py: what the catalog and the training data teach about intents."""

from rasa_ext.intent_evidence import Evidence, fold

LOOKUPS = {"product_type": ["french presses", "rain jackets", "sets", "smartwatches", "sweaters",
                            "baskets & bins"],
           "product_word": ["press", "french", "mug", "set", "order"],
           "product_noun": ["basket"], "brand": ["Sable Row"], "color": ["blush", "cream", "rose gold", "silver"], "material": ["wool"]}
EXAMPLES = [
    ("show me rain jackets", "search_product"), ("something in wool", "refine_search"),
    ("cheaper ones please", "refine_search"), ("I want a mug", "search_product"),
    ("where is my order", "track_order"), ("cancel my order", "cancel_order"),
    ("my order has not arrived", "track_order"), ("I want a refund", "get_refund"),
    ("how do I get a refund", "get_refund"), ("refund my money", "get_refund"),
    ("set up my account", "create_account"), ("hello", "greet"), ("no", "deny"),
    *((f"show me {thing}", "search_product") for thing in ["boots", "tents", "lamps", "rugs",
                                                            "hats", "socks", "mugs", "bags"]),
]
EVIDENCE = Evidence.learn(LOOKUPS, EXAMPLES)


def test_folding():
    assert [fold(w) for w in ["Women's", "boxes", "presses", "accessories", "dress", "bus"]] == [
        "women", "box", "press", "accessory", "dress", "bus"]


def test_catalog_words_move_a_message_to_shopping():
    assert EVIDENCE.shopping_intent("a french press", "out_of_scope") == "search_product"
    assert EVIDENCE.shopping_intent("blush or cream", "out_of_scope") == "refine_search"
    assert EVIDENCE.shopping_intent("no wool", "deny") == "refine_search"
    assert EVIDENCE.shopping_intent("I don't like Sable Row", "payment_issue") == "refine_search"


def test_service_words_ids_and_emails_keep_the_intent():
    assert "refund" in EVIDENCE.service_words and "order" in EVIDENCE.service_words
    assert EVIDENCE.shopping_intent("refund for the french press", "get_refund") is None
    assert EVIDENCE.shopping_intent("where is ORD-10427, the mug", "track_order") is None
    assert EVIDENCE.shopping_intent("a mug, ann@example.com", "inform") is None
    assert EVIDENCE.shopping_intent("hello there", "greet") is None  # no catalog word


def test_words_the_data_uses_outside_shopping_are_no_evidence():
    assert ("set",) not in EVIDENCE.terms and ("order",) not in EVIDENCE.terms
    assert EVIDENCE.shopping_intent("set it up", "create_account") is None


def test_a_sure_shopping_intent_is_kept_an_unsure_one_confirmed():
    assert EVIDENCE.shopping_intent("a mug", "search_product", 0.9) is None
    assert EVIDENCE.shopping_intent("a french press", "search_product", 0.3) == "search_product"
    assert EVIDENCE.shopping_intent("hmm", "search_product", 0.3) is None


def test_a_lone_colour_or_title_word_is_not_enough():
    assert EVIDENCE.shopping_intent("what are cream crackers", "out_of_scope") is None
    assert EVIDENCE.shopping_intent("a cream mug", "out_of_scope") == "refine_search"
    assert EVIDENCE.shopping_intent("anything in wool", "out_of_scope") == "refine_search"


def test_round_trip():
    assert Evidence.from_dict(EVIDENCE.to_dict()) == EVIDENCE


def test_words_written_apart_count_as_the_term_the_catalog_writes_as_one():
    assert EVIDENCE.shopping_intent("smart watch under 150", "out_of_scope") == "search_product"
    assert EVIDENCE.shopping_intent("a smart move", "out_of_scope") is None


def test_a_short_message_of_catalog_words_only_is_a_refinement():
    assert EVIDENCE.shopping_intent("rose gold?", "nlu_fallback") == "refine_search"
    assert EVIDENCE.shopping_intent("anything in silver?", "out_of_scope") == "refine_search"
    assert EVIDENCE.shopping_intent("silver wedding gifts ideas", "out_of_scope") is None  # longer


def test_an_unsure_cart_intent_naming_products_is_a_search():
    assert EVIDENCE.shopping_intent("storage baskets for the toys", "view_cart", 0.5) == "refine_search"
    assert EVIDENCE.shopping_intent("storage baskets for the toys", "view_cart", 0.9) is None
