"""Redaction on a corpus that seeds every kind of personal data, and shopping text it must keep."""

from __future__ import annotations

import re

import pytest

from learning.redact import EMAIL_PLACEHOLDER, Redactor

SEEDED = [
    # (text, secret that must disappear, placeholder expected in the output)
    ("my email is jane.doe+shop@mailbox.co.uk thanks", "jane.doe+shop@mailbox.co.uk", EMAIL_PLACEHOLDER),
    ("Contact: BOB_smith@example.org", "BOB_smith@example.org", EMAIL_PLACEHOLDER),
    ("call me on +1 (555) 201-3344 please", "201-3344", "<PHONE>"),
    ("my number is 0171 2345678", "2345678", "<PHONE>"),
    ("ring 555.867.5309 after six", "867.5309", "<PHONE>"),
    ("+491701234567 is my mobile", "1701234567", "<PHONE>"),
    ("card 4111 1111 1111 1111 was declined", "4111 1111 1111 1111", "<CARD>"),
    ("I paid with 5500-0000-0000-0004", "5500-0000-0000-0004", "<CARD>"),
    ("charged twice on 4012888888881881", "4012888888881881", "<CARD>"),
    ("send it to 221B Baker Street, London", "Baker Street", "<ADDRESS>"),
    ("new address: 42 Elm Ave, Apt 4, Springfield, IL 62704", "Elm Ave", "<ADDRESS>"),
    ("ship to 1600 Pennsylvania Avenue NW", "Pennsylvania Avenue", "<ADDRESS>"),
    ("Lieferung an Hauptstraße 5 bitte", "Hauptstraße 5", "<ADDRESS>"),
    ("hi, my name is Jane Doe and my parcel is late", "Jane Doe", "<NAME>"),
    ("This is Carlos Mendez from the order", "Carlos Mendez", "<NAME>"),
    ("thanks, regards, Priya Natarajan", "Priya Natarajan", "<NAME>"),
]

KEPT = [
    "red running shoes for men under 80 dollars",
    "show me sizes 38 40 42 44",
    "a 2 person tent between 150 and 300",
    "i'm looking for a waterproof jacket",
    "I am interested in the second one",
    "headphones with 30 h battery",
    "compare P00012 and P00044",
    "a 1200 W kettle",
    "delivered on 2024-05-01?",
]


@pytest.mark.parametrize(("text", "secret", "placeholder"), SEEDED)
def test_each_kind_of_personal_data_is_replaced(text: str, secret: str, placeholder: str) -> None:
    out = Redactor(salt="t").redact(text)
    assert secret not in out
    assert placeholder in out


@pytest.mark.parametrize("text", KEPT)
def test_shopping_text_is_kept(text: str) -> None:
    assert Redactor(salt="t").redact(text) == text


@pytest.mark.parametrize("real", ["ORD-10427", "ord-10427", "ORD10427", "INV-00042"])
def test_order_ids_keep_their_shape_and_are_stable(real: str) -> None:
    redactor = Redactor(salt="s1")
    out = redactor.redact(f"where is {real}?")
    fake = out.removeprefix("where is ").removesuffix("?")
    assert fake != real
    shape = re.sub(r"\d", "9", real)
    assert re.sub(r"\d", "9", fake) == shape
    assert redactor.redact(f"status of {real}") == f"status of {fake}"  # same id, same placeholder
    other = Redactor(salt="other").redact(real)  # another salt: another placeholder, same shape
    assert other != fake and other != real and re.sub(r"\d", "9", other) == shape


def test_form_values_are_replaced_verbatim() -> None:
    redactor = Redactor(salt="t")
    known = redactor.known_values({"shipping_address": "Flat 3, Rosemary Court, Leeds",
                                   "email": "x@y.io", "order_id": "ORD-10001"})
    out = redactor.redact("please use Flat 3, Rosemary Court, Leeds instead", known)
    assert "Rosemary" not in out and "<ADDRESS>" in out
    assert redactor.counts["form_value"] == 1


def test_entities_follow_the_redacted_text() -> None:
    text = "track ORD-10427 for jane@shop.io"
    entities = [
        {"entity": "order_id", "start": 6, "end": 15, "value": "ORD-10427", "extractor": "RegexEntityExtractor"},
        {"entity": "email", "start": 20, "end": 32, "value": "jane@shop.io", "confidence_entity": 0.9},
    ]
    out, new = Redactor(salt="t").redact_entities(text, entities)
    assert "10427" not in out and "jane@shop.io" not in out
    for entity in new:
        assert out[entity["start"]:entity["end"]] == entity["value"]
        assert set(entity) <= {"entity", "role", "group", "value", "start", "end"}
    assert new[1]["value"] == EMAIL_PLACEHOLDER
