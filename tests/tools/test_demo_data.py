"""The demo shop (tools/generate_catalog.py) and the evaluation set (data/eval/)."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from recommender.catalog import load_catalog
from recommender.pairs import normalize_query

ROOT = Path(__file__).resolve().parents[2]
ROOTS = {"Apparel", "Footwear", "Electronics", "Home", "Outdoor"}


@pytest.fixture(scope="module")
def generator():
    from tools import generate_catalog

    return generate_catalog


@pytest.fixture(scope="module")
def qrels_builder():
    from tools import build_qrels

    return build_qrels


@pytest.fixture(scope="module")
def demo_catalog(generator, tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "products.jsonl"
    assert generator.main([str(path)]) == 0
    return path


def test_demo_catalog_validates_fully(demo_catalog):
    report = load_catalog(demo_catalog)
    assert report.errors == []
    products = report.products
    assert len(products) >= 1000
    assert len({p.id for p in products}) == len(products)
    roots = collections.Counter(p.category[0] for p in products)
    assert set(roots) == ROOTS and min(roots.values()) >= 100
    zero = sum(1 for p in products if p.stock == 0) / len(products)
    assert 0.04 <= zero <= 0.12
    assert len({p.brand for p in products}) >= 35
    assert all(len(p.category) == 3 and p.currency == "USD" and p.price and p.price > 0 for p in products)
    assert all(p.image_url == f"/images/{p.id}.svg" and p.url == f"/products/{p.id}" for p in products)
    assert {p.gender for p in products} == {"men", "women", "unisex", "kids"}


def test_sizes_fit_the_department(demo_catalog):
    products = load_catalog(demo_catalog).products
    for product in products:
        if product.category[0] == "Electronics":
            assert product.sizes == []
        if product.category[0] == "Footwear" and product.gender != "kids":
            assert product.sizes and all(6 <= float(s) <= 13 for s in product.sizes)
        if product.category[1] == "Tops" and product.gender != "kids":
            assert set(product.sizes) <= {"XS", "S", "M", "L", "XL", "XXL"}


def test_descriptions_and_titles_vary(demo_catalog):
    products = load_catalog(demo_catalog).products
    assert len({p.title for p in products}) > 0.8 * len(products)
    openings = collections.Counter(p.description.split()[0] for p in products)
    assert len(openings) > 10  # not one template
    sentences = [p.description.count(". ") + 1 for p in products]
    assert min(sentences) >= 2 and max(sentences) <= 3


def test_generation_is_deterministic_and_scales(generator, demo_catalog, tmp_path):
    again = tmp_path / "again.jsonl"
    generator.main([str(again)])
    assert again.read_bytes() == demo_catalog.read_bytes()
    small = tmp_path / "small.jsonl"
    generator.main(["--scale", "300", "--output", str(small)])
    rows = [json.loads(line) for line in small.read_text().splitlines()]
    assert len(rows) == 300
    # product n does not depend on how many are generated
    first = [json.loads(line) for line in demo_catalog.read_text().splitlines()[:300]]
    assert rows == first


def test_eval_files_are_regenerated_identically(qrels_builder, demo_catalog, tmp_path):
    """The committed queries/qrels are what build_qrels.py derives from the generated catalog."""
    assert qrels_builder.main(["--catalog", str(demo_catalog), "--out-dir", str(tmp_path)]) == 0
    for name in ("queries.tsv", "qrels.tsv"):
        assert (tmp_path / name).read_text() == (ROOT / "data/eval" / name).read_text(), name


def test_eval_set_is_judged_and_not_copied_from_titles(demo_catalog):
    queries = dict(line.split("\t") for line in (ROOT / "data/eval/queries.tsv").read_text().splitlines())
    assert len(queries) >= 60
    products = {p.id: p for p in load_catalog(demo_catalog).products}
    grades: dict[str, dict[str, int]] = collections.defaultdict(dict)
    for line in (ROOT / "data/eval/qrels.tsv").read_text().splitlines():
        qid, pid, grade = line.split("\t")
        assert qid in queries and pid in products and grade in ("1", "2")
        grades[qid][pid] = int(grade)
    assert all(2 in grades[qid].values() for qid in queries), "every query has an exact match"
    titles = {normalize_query(p.title) for p in products.values()}
    assert not {normalize_query(q) for q in queries.values()} & titles


def test_judging_rules(qrels_builder):
    from recommender.catalog import Product

    q = qrels_builder.Q("t", "waterproof hiking boots for women under 150", ("Hiking Boots",), ("Winter Boots",),
                        attrs=(("waterproof", "yes"),), gender="women", price_max=150)

    def boot(**kw):
        base = {"id": "x", "title": "Boot", "category": ["Footwear", "Boots", "Hiking Boots"], "price": 120,
                "gender": "women", "attributes": {"waterproof": "yes"}}
        return Product(**{**base, **kw})

    assert qrels_builder.grade(q, boot()) == 2
    assert qrels_builder.grade(q, boot(gender="unisex")) == 2
    assert qrels_builder.grade(q, boot(price=180)) == 1  # one criterion missed
    assert qrels_builder.grade(q, boot(price=180, gender="men")) == 0
    assert qrels_builder.grade(q, boot(category=["Footwear", "Boots", "Winter Boots"])) == 1  # related type
    assert qrels_builder.grade(q, boot(category=["Home", "Kitchen", "Cookware"])) == 0


def test_home_eval_set_is_judged_and_not_copied_from_titles():
    """data/eval/home: its own catalog of marketplace listings, judged by reading (README there)."""
    home = ROOT / "data/eval/home"
    report = load_catalog(home / "products.jsonl")
    assert not report.errors and len(report.products) >= 1000
    products = {p.id: p for p in report.products}
    assert all(set(p.model_dump(exclude_defaults=True)) <= {"id", "title", "category", "product_class",
                                                            "description"} for p in products.values())
    queries = dict(line.split("\t") for line in (home / "queries.tsv").read_text().splitlines())
    assert len(queries) >= 60
    grades: dict[str, dict[str, int]] = collections.defaultdict(dict)
    for line in (home / "qrels.tsv").read_text().splitlines():
        qid, pid, grade = line.split("\t")
        assert qid in queries and pid in products and grade in ("1", "2")
        assert pid not in grades[qid], (qid, pid)
        grades[qid][pid] = int(grade)
    assert set(grades) == set(queries)
    assert sum(2 in g.values() for g in grades.values()) >= len(queries) - 1  # h67: partial answers only
    titles = {normalize_query(p.title) for p in products.values()}
    assert not {normalize_query(q) for q in queries.values()} & titles
