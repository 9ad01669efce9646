"""recommender.catalog: JSON Lines and CSV loading, column mapping, bad rows, unknown fields."""

from __future__ import annotations

import json

import pytest

from recommender.catalog import Product, embedding_text, load_catalog


def _jsonl(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl_loads_good_rows_and_reports_bad_ones_by_line(tmp_path):
    path = _jsonl(tmp_path / "c.jsonl", [
        json.dumps({"id": "A1", "title": "Trail Boot", "price": 99.5, "category": ["Footwear", "Boots"]}),
        "",  # blank lines are skipped, not errors
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"id": "A2"}),  # no title
        json.dumps({"id": "A3", "title": "Tee", "rating": 7}),
        json.dumps({"id": "A4", "title": "Mug", "price": -1}),
        json.dumps({"id": 5, "title": "  Lamp  ", "stock": 0}),
    ])
    report = load_catalog(path)
    assert [p.id for p in report.products] == ["A1", "5"]
    assert report.products[1].title == "Lamp"  # stripped
    assert report.products[1].in_stock is False
    lines = {e.line: e.reason for e in report.errors}
    assert sorted(lines) == [3, 4, 5, 6, 7]
    assert "invalid JSON" in lines[3]
    assert "JSON object" in lines[4]
    assert lines[5].startswith("title")
    assert lines[6].startswith("rating")
    assert lines[7].startswith("price")
    assert str(report.errors[0]).startswith("line 3:")


def test_unknown_fields_are_kept_as_payload(tmp_path):
    path = _jsonl(tmp_path / "c.jsonl", [json.dumps({"id": "X", "title": "Kettle", "warehouse": "B7", "tags": ["new"]})])
    product = load_catalog(path).products[0]
    payload = product.payload()
    assert payload["warehouse"] == "B7" and payload["tags"] == ["new"]
    assert payload["in_stock"] is True and "image_vector" not in payload


def test_later_duplicate_id_wins(tmp_path):
    path = _jsonl(tmp_path / "c.jsonl", [json.dumps({"id": "D", "title": "Old"}), json.dumps({"id": "D", "title": "New"})])
    assert [p.title for p in load_catalog(path).products] == ["New"]


CSV_TEXT = (
    "id,title,price,category,colors,attributes,image_vector,warehouse\n"
    'C1,Rain Jacket,120,Apparel > Outerwear > Rain Jackets,navy|red,"{""waterproof"": ""yes""}","[0.1, 0.2]",B7\n'
    "C2,,10,,,,,\n"
    "C3,Mug,cheap,,,,,\n"
    'C4,Pan,30,Home|Kitchen,"[""black""]","{broken",,\n'
    "C5,Candle,12,,,,,\n"
)


def test_csv_loads_lists_objects_and_reports_bad_rows(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    report = load_catalog(path)
    assert [p.id for p in report.products] == ["C1", "C5"]
    jacket = report.products[0]
    assert jacket.category == ["Apparel", "Outerwear", "Rain Jackets"]
    assert jacket.colors == ["navy", "red"]
    assert jacket.attributes == {"waterproof": "yes"}
    assert jacket.image_vector == [0.1, 0.2]
    assert jacket.price == 120.0
    assert jacket.payload()["warehouse"] == "B7"
    assert {e.line: e.reason.split(":")[0] for e in report.errors} == {3: "title", 4: "price", 5: "attributes"}


def test_csv_with_byte_order_mark(tmp_path):
    """Spreadsheet exports start with a BOM; the first column must still be ``id``."""
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CSV_TEXT.encode("utf-8"))
    assert [p.id for p in load_catalog(path).products] == ["C1", "C5"]


def test_csv_column_mapping_for_other_schemas(tmp_path):
    path = tmp_path / "shopify.csv"
    path.write_text("Handle,Name,Variant Price,Vendor,Colour\nh-1,Wool Beanie,25,Alder & Co,grey|navy\n", encoding="utf-8")
    mapping = {"Handle": "id", "Name": "title", "Variant Price": "price", "Vendor": "brand", "Colour": "colors"}
    report = load_catalog(path, column_map=mapping)
    assert not report.errors
    beanie = report.products[0]
    assert (beanie.id, beanie.title, beanie.price, beanie.brand, beanie.colors) == (
        "h-1", "Wool Beanie", 25.0, "Alder & Co", ["grey", "navy"])
    # without the mapping the same file has no ids: every row is reported, none lost silently
    assert [e.line for e in load_catalog(path).errors] == [2]


@pytest.mark.parametrize("field,value,shown", [
    ("brand", "Northpeak", "Northpeak"), ("gender", "women", "women"),
    ("colors", ["navy", "red"], "navy, red"), ("materials", ["leather"], "leather"),
])
def test_embedding_text_has_the_core_fields(field, value, shown):
    product = Product(id="1", title="Summit Boot", category=["Footwear", "Boots"], **{field: value})
    text = embedding_text(product)
    assert "Summit Boot" in text and "Footwear > Boots" in text and shown in text


def test_attributes_and_description_reach_the_keywords_not_the_dense_text():
    from recommender.catalog import content_hash, keyword_text

    product = Product(id="1", title="Summit Boot", colors=["navy"], attributes={"waterproof": "yes"},
                      description="Warm and dry. Resoled by hand in Porto.")
    assert embedding_text(product) == "Summit Boot. navy"
    assert "waterproof: yes" in keyword_text(product) and "Porto" in keyword_text(product)
    # a changed description changes only the keyword vector: the hash must still follow
    changed = product.model_copy(update={"description": "Warm and dry. Resoled by hand in Lisbon."})
    assert content_hash(changed) != content_hash(product)


def test_a_catalogs_own_text_fields_reach_the_keywords():
    """Fields beyond the contract ("product_class" of a furniture catalog) are words of the
    product; links and numbers are not."""
    from recommender.catalog import keyword_text

    product = Product.model_validate({"id": "1", "title": "Kordell 84'' Sofa", "category": ["Furniture"],
                                      "product_class": "Sofas", "source": "https://example.com/1",
                                      "thumb": "/img/1.png", "weight_kg": 40})
    text = keyword_text(product)
    assert "product class: Sofas" in text
    assert "example.com" not in text and "/img/1.png" not in text and "40" not in text
    assert "Sofas" not in embedding_text(product)
