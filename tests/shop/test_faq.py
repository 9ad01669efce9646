"""FAQ answers from data/faq/faq.yml with the real encoder: shoppers' paraphrases (not in the
file) find the right entry, the predicted intent is preferred, unrelated chat gets no answer,
and editing the YAML changes the answers."""

from __future__ import annotations

import logging
import shutil

import pytest
import yaml

from shop.faq import KEYWORD_BONUS, FaqError, FaqIndex, load_entries
from tools.eval_nlu import BITEXT_TAXONOMY

from .conftest import FAQ_PATH

# the customer-service intents of the contract (architecture §3): the Bitext taxonomy
CONTRACT_INTENTS = set(BITEXT_TAXONOMY)

FEE = "Is there a fee for cancelling an order?"
DELIVERY = "What delivery options do you offer?"
PAYMENT = "What payment methods do you accept?"


def test_faq_file_is_valid_and_covers_the_knowledge_intents():
    entries = load_entries(FAQ_PATH)
    assert len(entries) >= 35
    intents = {entry.intent for entry in entries} - {None}
    assert intents <= CONTRACT_INTENTS
    for needed in ("delivery_options", "delivery_period", "check_payment_methods",
                   "check_refund_policy", "check_cancellation_fee", "recover_password",
                   "newsletter_subscription", "create_account", "contact_customer_service"):  # fmt: skip
        assert needed in intents
    questions = [entry.question for entry in entries]
    assert len(questions) == len(set(questions))


# Two ways a shopper would ask, per entry, for a representative set of entries. None of these
# texts is in the file (checked below): the index must generalise, not find its own phrasing.
PARAPHRASES = {
    DELIVERY: ["how much is express shipping?", "what does express delivery cost", "cheap shipping?"],
    "How long does delivery take?": ["whats the usual shipping time", "how many days until my package gets here"],
    "Do you ship internationally?": ["do you ship to mexico", "can I order from the uk"],
    "My parcel says delivered but I haven't received it": [
        "the package says delivered but its not here", "my parcel never showed up"],
    PAYMENT: ["do u take paypal", "can I pay with google pay"],
    "My payment was declined, what should I do?": ["payment not going through", "my card keeps getting declined"],
    FEE: ["is it free to cancel my order", "do you charge a cancellation fee"],
    "What is your return policy?": ["whats ur return policy", "can i return stuff after 2 weeks"],
    "How long does a refund take?": ["when will I get my refund", "how long until the refund hits my account"],
    "Can I exchange an item for a different size or colour?": [
        "can I exchange the shoes for a size up", "the jacket is too small, can I get a larger one"],
    "My item arrived damaged or faulty": ["the product arrived broken", "one of the items is broken"],
    "Where can I find my invoice?": ["where do I get an invoice", "i need a receipt for tax purposes"],
    "I forgot my password": ["can't remember my password", "the password reset link isn't working"],
    "How do I delete my account?": ["I want to delete my account", "please close my account for good"],
    "How do I subscribe to the newsletter?": [
        "how do i unsubscribe from your emails", "I'd like to get your newsletter"],
    "How do gift cards work?": ["my gift card balance", "do you sell gift vouchers"],
    "Do you have discount codes or a student discount?": [
        "do you have a student discount", "my promo code doesnt work"],
    "How do I find my size?": ["do these shoes fit true to size", "where's the size chart"],
    "How can I contact customer service?": [
        "what's your customer service phone number", "do you have a support email address"],
}  # fmt: skip
PARAPHRASE_CASES = [(text, question) for question, texts in PARAPHRASES.items() for text in texts]
# Asked without an intent these match the return policy's "is return shipping free" better than
# the delivery entry (a known miss of data/faq/faq.yml); with Rasa's intent they are answered right.
FREE_SHIPPING = ["is shipping free if I spend enough", "does free shipping apply over 75 dollars"]


def _normal(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())


def test_the_paraphrases_are_not_in_the_file_and_name_real_entries(faq):
    questions = {entry.question for entry in faq.entries}
    assert set(PARAPHRASES) <= questions, set(PARAPHRASES) - questions
    assert len(PARAPHRASES) >= 15 and all(len(texts) >= 2 for texts in PARAPHRASES.values())
    phrasings = {_normal(text) for entry in faq.entries for text in entry.phrasings}
    in_file = [text for text, _ in PARAPHRASE_CASES if _normal(text) in phrasings]
    assert in_file == [], "a paraphrase that is in the file only finds itself"


@pytest.mark.parametrize(("text", "expected"), PARAPHRASE_CASES)
def test_paraphrases_find_their_entry(faq, text, expected):
    found = faq.answer(text)  # no intent: the text alone has to pick the entry
    assert found is not None, f"{text!r}: no answer, best score {faq.scores(text).max():.2f}"
    assert found.question == expected
    assert found.score >= faq.min_score
    assert found.answer == next(e.answer for e in faq.entries if e.question == expected)


@pytest.mark.xfail(strict=True, reason="known miss: free-shipping questions without an intent get "
                   "the return policy (its 'is return shipping free'); see FREE_SHIPPING")  # fmt: skip
@pytest.mark.parametrize("text", FREE_SHIPPING)
def test_free_shipping_questions_without_intent(faq, text):
    assert faq.answer(text).question == DELIVERY


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("how much?", "check_cancellation_fee", FEE),
        (
            "I need to speak to a human",
            "contact_customer_service",
            "How can I contact customer service?",
        ),
        ("i forgot my pasword", "recover_password", "I forgot my password"),
        ("can you send it to Toronto", "delivery_options", "Do you ship internationally?"),
        # without the intent these get the return policy (see FREE_SHIPPING); with it, delivery
        *[(text, "delivery_options", DELIVERY) for text in FREE_SHIPPING],
        # a misclassified intent: the text matches another entry far better
        ("what cards do u accept", "delivery_options", PAYMENT),
    ],
)
def test_predicted_intent_is_preferred(faq, text, intent, expected):
    found = faq.answer(text, intent=intent)
    assert found is not None and found.question == expected


def test_vague_text_without_intent_has_no_answer(faq):
    assert faq.answer("how much?") is None
    assert faq.answer("how much?", intent="check_cancellation_fee").question == FEE


@pytest.mark.parametrize(
    "text",
    [
        "what's the capital of France?",
        "tell me a joke",
        "what's the weather tomorrow",
        "book me a flight to Paris",
        "what is 2 plus 2",
        "hello there",
        "compare the first two",
        "recommend a jacket",
        "show me red running shoes under 80",
        "who won the football game last night",
        "how do I bake sourdough bread",
    ],
)
def test_unrelated_text_gets_no_answer(faq, text):
    # no entry comes near the threshold: the bot says it does not know rather than guess
    assert faq.scores(text).max() < faq.min_score
    assert faq.answer(text) is None
    # an intent without FAQ entries does not force an answer either
    assert faq.answer(text, intent="search_product") is None


SHOPPING = {"size", "large", "cheaper", "man", "earbud", "blue"}  # a stand-in for the catalog's words


@pytest.mark.parametrize(("text", "expected"), [
    ("I'm a student, do I get money off?", "Do you have discount codes or a student discount?"),
    ("if they don't fit can she swap them for a large?", "Can I exchange an item for a different size or colour?"),
    ("what's the warranty on earbuds?", "Do your products have a warranty?"),
])
def test_a_word_one_entry_alone_uses_counts_for_it(faq, text, expected):
    plain = faq.answer(text)
    assert plain is None or plain.score < 0.65  # on similarity alone: below the bar of other paths
    answer = faq.answer(text, ignore=SHOPPING.__contains__)
    assert answer.question == expected
    # the bonus on top of the entry's own similarity; whether that clears the bar (0.65) depends
    # on the CPU's arithmetic for the student question (0.62 on AMD EPYC, above on Intel AMX)
    similarity = faq.scores(text)[[e.question for e in faq.entries].index(expected)]
    assert answer.score == pytest.approx(similarity + KEYWORD_BONUS, abs=1e-3)


def test_shopping_words_earn_no_keyword_bonus(faq):
    text = "for a man, size M"  # "size" is in one entry ("How do I find my size?")
    assert faq.answer(text, ignore=SHOPPING.__contains__).score == faq.answer(text).score


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_text_gets_no_answer(faq, text):
    assert faq.answer(text) is None
    assert faq.answer(text, intent="delivery_options") is None


def test_editing_the_yaml_changes_the_answers(encoder, tmp_path):
    path = tmp_path / "faq.yml"
    shutil.copy(FAQ_PATH, path)
    index = FaqIndex.from_file(path, encoder)
    assert index.answer("are your products eco-friendly?") is None
    assert "free as long as" in index.answer("is it free to cancel my order").answer

    document = yaml.safe_load(path.read_text())
    fee = next(e for e in document["entries"] if e["question"] == FEE)
    fee["answer"] = "Cancelling costs $3 once the order is being processed."
    document["entries"].append(
        {"intent": None, "question": "Are your products sustainable?",
         "alternatives": ["is your packaging recyclable"], "answer": "Our packaging is 100% recycled."}
    )  # fmt: skip
    path.write_text(yaml.safe_dump(document, sort_keys=False))

    assert (
        index.answer("are your products eco-friendly?").answer == "Our packaging is 100% recycled."
    )
    assert index.answer("is it free to cancel my order").answer.startswith("Cancelling costs $3")


def test_a_broken_edit_keeps_the_previous_answers(encoder, tmp_path, caplog):
    path = tmp_path / "faq.yml"
    path.write_text(
        "entries:\n  - intent: null\n    question: Do you offer gift wrapping?\n"
        "    answer: Yes, for $4.95 per order.\n"
    )
    index = FaqIndex.from_file(path, encoder)
    path.write_text("entries:\n  - intent: null\n    question: [unclosed\n")
    with caplog.at_level(logging.WARNING, logger="shop.faq"):
        found = index.answer("do you offer gift wrapping?")
    assert found is not None and found.answer == "Yes, for $4.95 per order."
    assert "FAQ not reloaded" in caplog.text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("entries: []", "non-empty list"),
        ("entries:\n  - question: Only a question\n", "entry 1: 'answer' is required"),
        (
            "entries:\n  - {question: Q, answer: A}\n  - {answer: A}\n",
            "entry 2: 'question' is required",
        ),
        ("entries:\n  - {question: Q, answer: A, alternatives: nope}\n", "'alternatives' must be"),
        ("entries: [unclosed", "invalid YAML"),
    ],
)
def test_malformed_faq_is_reported(tmp_path, content, message):
    path = tmp_path / "faq.yml"
    path.write_text(content)
    with pytest.raises(FaqError, match=message):
        load_entries(path)
