"""build_lookups: catalog vocabulary → Rasa lookup tables and synonyms (no Rasa import)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tools import build_lookups

ROOT = Path(__file__).resolve().parents[2]

PRODUCTS = [
    {"id": "A1", "title": "Cityline Runner", "brand": "Stridewell",
     "category": ["Footwear", "Sneakers", "Running Shoes"], "colors": ["Navy", "white"],
     "sizes": ["9", "9.5", "10K"], "materials": ["Engineered Mesh"]},
    {"id": "A2", "title": "Zip Hoodie", "brand": "Alder & Co",
     "category": ["Apparel", "Tops", "Hoodies & Sweatshirts"], "colors": ["grey"],
     "sizes": ["S", "M", "XL"], "materials": ["cotton", "polyester"]},
    {"id": "A3", "title": "Steel Knife", "brand": "Kettleworth", "category": ["Home", "Kitchen", "Knives"]},
]


def _read_blocks(text: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    data = yaml.safe_load(text)
    assert data["version"] == "3.1"
    lookups, synonyms = {}, {}
    for item in data["nlu"]:
        values = [line[2:] for line in item["examples"].splitlines() if line.startswith("- ")]
        if "lookup" in item:
            lookups[item["lookup"]] = values
        else:
            synonyms[item["synonym"]] = values
    return lookups, synonyms


@pytest.fixture()
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "products.jsonl"
    lines = [json.dumps(p) for p in PRODUCTS] + ['{"title": "no id, reported and skipped"}']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("word", "single"), [
    ("running shoes", "running shoe"), ("hoodies", "hoody"), ("knives", "knife"), ("boxes", "box"),
    ("jeans", "jeans"), ("camping", "camping"), ("dress", "dress"), ("t-shirts", "t-shirt"),
])
def test_singular(word: str, single: str) -> None:
    assert build_lookups.singular(word) == single


@pytest.mark.parametrize(("word", "many"), [
    ("rain jacket", "rain jackets"), ("dress", "dresses"), ("knife", "knives"), ("tent", "tents"),
    ("bedding", "bedding"), ("shorts", "shorts"), ("accessory", "accessories"),
])
def test_plural(word: str, many: str) -> None:
    assert build_lookups.plural(word) == many


def test_product_type_forms_split_compound_names() -> None:
    canonical, variants = build_lookups.product_type_forms("Hoodies & Sweatshirts")
    assert canonical == "hoodies & sweatshirts"
    assert {"hoodie", "hoodies", "sweatshirt", "sweatshirts", "hoodies and sweatshirts"} <= set(variants)
    assert canonical not in variants


def test_cli_writes_lookups_and_synonyms(catalog: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "gen" / "lookups.yml"
    static = tmp_path / "synonyms.yml"
    static.write_text('version: "3.1"\nnlu:\n- synonym: sneakers\n  examples: |\n    - running shoe\n')
    assert build_lookups.main(["--catalog", str(catalog), "--out", str(out),
                               "--static-synonyms", str(static)]) == 0
    assert "line 4" in capsys.readouterr().err  # the bad record is reported, the rest loads
    lookups, synonyms = _read_blocks(out.read_text())

    assert {"running shoes", "sneakers", "hoodies & sweatshirts", "knives", "knife", "hoodie"} <= set(
        lookups["product_type"])
    assert "footwear" not in lookups["product_type"]  # the root department is not a type
    assert {"Stridewell", "Alder & Co", "alder and co"} <= set(lookups["brand"])
    assert set(lookups["color"]) == {"navy", "white", "grey"}
    assert set(lookups["material"]) == {"engineered mesh", "cotton", "polyester"}
    assert set(lookups["size"]) == {"10K", "S", "M", "XL"}  # numeric sizes look like prices
    # title words, the titles' head nouns (both numbers) and genders: evidence, not entities
    assert {"cityline", "runner", "zip", "hoodie", "steel", "knife"} <= set(lookups["product_word"])
    assert set(lookups["product_noun"]) == {"runner", "runners", "hoodie", "hoodies", "knife", "knives"}

    assert "sweatshirt" in synonyms["hoodies & sweatshirts"]
    assert "alder and co" in synonyms["Alder & Co"]
    assert "knife" in synonyms["knives"]
    # a surface form defined by hand is not redefined by the generator
    assert all("running shoe" not in values for values in synonyms.values())


def test_every_surface_form_maps_to_one_value(catalog: Path, tmp_path: Path) -> None:
    out = tmp_path / "lookups.yml"
    assert build_lookups.main(["--catalog", str(catalog), "--out", str(out),
                               "--static-synonyms", str(tmp_path / "none.yml")]) == 0
    _, synonyms = _read_blocks(out.read_text())
    forms = [v.lower() for values in synonyms.values() for v in values]
    assert len(forms) == len(set(forms))


def test_missing_catalog_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert build_lookups.main(["--catalog", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "x.yml")]) == 2
    assert "catalog not found" in capsys.readouterr().err
    assert not (tmp_path / "x.yml").exists()
