"""A tiny Rasa project (5 intents, rules only, small DIET) that trains in well under a minute on
2 cores: for the real-Rasa test of the retraining round."""

from __future__ import annotations

from pathlib import Path

INTENTS = {
    "greet": ["hi", "hello", "hey there", "good morning", "hello friend", "hi bot", "hey",
              "good evening", "howdy", "hiya", "greetings", "yo", "hello again", "morning",
              "hi there how are you", "hey hey", "good afternoon", "heya", "hello shop", "hallo"],
    "goodbye": ["bye", "goodbye", "see you later", "bye bye", "talk to you later", "see ya",
                "good night", "farewell", "catch you later", "bye for now", "i am off", "cya",
                "later", "ciao", "that is all bye", "so long", "see you soon", "goodbye then",
                "ok bye", "have a nice day bye"],
    "track_order": ["where is my order", "track my package", "when will my parcel arrive",
                    "has my order shipped", "status of my delivery", "where is my parcel",
                    "track order", "my package has not arrived", "order status please",
                    "is my order on its way", "tracking number for my order", "where's my stuff",
                    "when does my order come", "did you ship my order", "package tracking",
                    "delivery status of my purchase", "my parcel is late", "where is the shipment",
                    "how far is my order", "check my order status"],
    "return_item": ["i want to return these shoes", "how do i return an item", "return my jacket",
                    "can i send it back", "i need to return something", "return policy for boots",
                    "the shirt does not fit i want to return it", "start a return",
                    "send back my order", "i would like to return a product", "how to send items back",
                    "return this please", "can i return a used item", "returning an item",
                    "i want my money back for this dress", "exchange or return", "return label please",
                    "give it back", "how long do i have to return", "return request"],
    "ask_payment": ["which payment methods do you accept", "can i pay with paypal", "do you take visa",
                    "pay by credit card", "is apple pay possible", "can i pay on invoice",
                    "what cards do you accept", "payment options", "do you accept mastercard",
                    "how can i pay", "pay with bank transfer", "can i use google pay",
                    "is cash on delivery available", "payment methods please", "do you take amex",
                    "can i pay in installments", "accepted payments", "pay with gift card",
                    "debit card ok", "how do i pay for my order"],
}
RESPONSES = {"greet": "utter_greet", "goodbye": "utter_goodbye", "track_order": "utter_track",
             "return_item": "utter_return", "ask_payment": "utter_payment"}
CONFIG = """recipe: default.v1
language: en
assistant_id: tiny
pipeline:
  - name: WhitespaceTokenizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 2
    max_ngram: 4
  - name: DIETClassifier
    epochs: {epochs}
    number_of_transformer_layers: 0
    entity_recognition: false
    random_seed: 1
policies:
  - name: MemoizationPolicy
  - name: RulePolicy
"""


def _examples(texts: list[str]) -> str:
    return "".join(f"    - {t}\n" for t in texts)


def write_project(root: Path, epochs: int = 5) -> Path:
    """The tiny project in ``root``: the first 6 examples of each intent are hand-written training
    data, the other 14 are "reviewed" examples (data/nlu/reviewed/reviewed.yml)."""
    (root / "data/nlu/reviewed").mkdir(parents=True)
    (root / "data/stories").mkdir(parents=True)
    (root / "data/rules").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "config.yml").write_text(CONFIG.format(epochs=epochs))
    (root / "domain.yml").write_text(
        'version: "3.1"\nintents:\n' + "".join(f"  - {i}\n" for i in INTENTS)
        + "responses:\n" + "".join(f'  {u}:\n    - text: "{i}"\n' for i, u in RESPONSES.items())
        + "session_config:\n  session_expiration_time: 60\n  carry_over_slots_to_new_session: true\n")
    nlu = "".join(f"- intent: {i}\n  examples: |\n{_examples(t[:6])}" for i, t in INTENTS.items())
    (root / "data/nlu/base.yml").write_text(f'version: "3.1"\nnlu:\n{nlu}')
    reviewed = "".join(f"- intent: {i}\n  examples: |\n{_examples(t[6:])}" for i, t in INTENTS.items())
    (root / "data/nlu/reviewed/reviewed.yml").write_text(f'version: "3.1"\nnlu:\n{reviewed}')
    rules = "".join(f"- rule: {i}\n  steps:\n  - intent: {i}\n  - action: {u}\n" for i, u in RESPONSES.items())
    (root / "data/rules/rules.yml").write_text(f'version: "3.1"\nrules:\n{rules}')
    (root / "data/stories/stories.yml").write_text(
        'version: "3.1"\nstories:\n- story: greet then track\n  steps:\n  - intent: greet\n'
        "  - action: utter_greet\n  - intent: track_order\n  - action: utter_track\n")
    stories = "".join(
        f"- story: {i} {n}\n  steps:\n  - user: \"{t}\"\n    intent: {i}\n  - action: {RESPONSES[i]}\n"
        for i, texts in INTENTS.items() for n, t in enumerate(texts[3:5]))
    (root / "tests/test_stories.yml").write_text(f'version: "3.1"\nstories:\n{stories}')
    return root
