"""The project's NLU training data: contract intents, volume, annotations, and originality."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from common import domain

ROOT = Path(__file__).resolve().parents[2]
NLU_DIR = ROOT / "data/nlu"
BITEXT = ROOT.parent / "shared/data/bitext-customer-support/bitext_customer_support_4514.csv"
OOS = ROOT.parent / "shared/data/clinc150-oos/oos_val.tsv"

# the contract is domain.yml; product_id comes only in button payloads, never annotated in text
CONTRACT_INTENTS = set(domain.intents())
CONTRACT_ENTITIES = set(domain.entities()) - {"product_id", "order_change"}  # set by buttons only
ANNOTATION = re.compile(r"\[([^\]]+)\](?:\((\w+)(?::[^)]*)?\)|(\{[^}]*\}))")


def _examples() -> dict[str, list[str]]:
    by_intent: dict[str, list[str]] = {}
    for path in sorted(NLU_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert str(data["version"]) == "3.1", path
        for item in data.get("nlu", []):
            if "intent" in item:
                lines = [ln[2:] for ln in item["examples"].splitlines() if ln.startswith("- ")]
                by_intent.setdefault(item["intent"], []).extend(lines)
    return by_intent


def _plain(text: str) -> str:
    """Annotated example → the text a user types, normalised for comparison."""
    text = ANNOTATION.sub(lambda m: m.group(1), text)
    return re.sub(r"[^a-z0-9 ]+", "", re.sub(r"\s+", " ", text.lower())).strip()


EXAMPLES = _examples()


def test_exactly_the_contract_intents() -> None:
    assert set(EXAMPLES) == CONTRACT_INTENTS


@pytest.mark.parametrize("intent", sorted(CONTRACT_INTENTS))
def test_at_least_40_distinct_examples(intent: str) -> None:
    plain = {_plain(t) for t in EXAMPLES[intent]}
    assert len(plain) >= 40, f"{intent}: {len(plain)} distinct examples"


def test_no_example_under_two_intents() -> None:
    owner: dict[str, str] = {}
    clashes = []
    for intent, texts in EXAMPLES.items():
        for text in texts:
            key = _plain(text)
            if key in owner and owner[key] != intent:
                clashes.append((key, owner[key], intent))
            owner[key] = intent
    assert clashes == []


def test_annotations_use_contract_entities_and_roles() -> None:
    used = Counter()
    for texts in EXAMPLES.values():
        for text in texts:
            for match in ANNOTATION.finditer(text):
                if match.group(2):
                    used[match.group(2)] += 1
                else:
                    spec = yaml.safe_load(match.group(3))
                    used[spec["entity"]] += 1
                    if spec["entity"] == "price":
                        assert spec["role"] in {"min", "max"}, text
                    else:
                        assert spec.get("role") in {None, "exclude"}, text
    assert set(used) == CONTRACT_ENTITIES


@pytest.mark.skipif(not BITEXT.exists() or not OOS.exists(), reason="public evaluation data not present")
def test_training_data_is_not_copied_from_the_evaluation_sets() -> None:
    with BITEXT.open(newline="", encoding="utf-8") as handle:
        evaluation = {_plain(row["instruction"]) for row in csv.DictReader(handle)}
    evaluation |= {_plain(line) for line in OOS.read_text(encoding="utf-8").splitlines()[1:]}
    ours = {_plain(t) for texts in EXAMPLES.values() for t in texts}
    # very short utterances ("cancel order") are bound to coincide; longer ones must not
    copied = sorted(t for t in ours & evaluation if len(t.split()) > 4)
    assert copied == []
