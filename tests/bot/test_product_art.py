"""bot.product_art: valid, escaped SVG drawn from colour and the category's leaf."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bot.product_art import COLOR_HEX, GLYPHS, ICONS, color_hex, glyph, render_product_svg
from recommender.catalog import Product

SVG = "{http://www.w3.org/2000/svg}"


def _product(**kw) -> Product:
    base = {"id": "P1", "title": "Trailhead Waterproof Hiking Boot", "colors": ["navy"],
            "category": ["Footwear", "Boots", "Hiking Boots"]}
    return Product(**{**base, **kw})


def test_renders_valid_svg_with_colour_icon_and_caption():
    root = ET.fromstring(render_product_svg(_product()))
    assert root.tag == f"{SVG}svg"
    path = root.find(f"{SVG}path")
    assert path.get("fill") == COLOR_HEX["navy"]
    assert path.get("d") == GLYPHS["hiking boots"][0]
    caption = " ".join(t.text for t in root.iter(f"{SVG}text"))
    assert caption.startswith("Trailhead Waterproof")
    assert root.find(f"{SVG}title").text == "Trailhead Waterproof Hiking Boot"


def test_title_cannot_inject_markup():
    evil = 'Boot"/><script>alert(1)</script><svg onload="x" & more'
    svg = render_product_svg(_product(title=evil))
    root = ET.fromstring(svg)  # still well-formed
    assert "<script" not in svg
    assert not any(el.tag.endswith("script") for el in root.iter())
    assert root.get("aria-label") == evil  # the text survives, as text
    assert all("onload" not in el.attrib for el in root.iter())


@pytest.mark.parametrize("root_name", ["Apparel", "Footwear", "Electronics", "Home", "Outdoor"])
def test_an_unknown_leaf_gets_its_departments_icon(root_name):
    svg = ET.fromstring(render_product_svg(_product(category=[root_name, "X"])))
    assert svg.find(f"{SVG}path").get("d") == ICONS[root_name.lower()]


def test_every_leaf_of_the_demo_catalog_has_its_own_glyph():
    from tools.generate_catalog import TYPES

    leaves = {t.path[-1] for t in TYPES}
    assert all(leaf.lower() in GLYPHS for leaf in leaves), sorted(
        leaf for leaf in leaves if leaf.lower() not in GLYPHS)
    drawn = {glyph(["Dept", leaf]) for leaf in leaves}  # (body, details)
    assert len(drawn) == len(leaves)  # one glyph per leaf, not per department


def test_a_jacket_is_not_a_t_shirt_and_unknown_leaves_use_their_words():
    jacket = glyph(["Apparel", "Outerwear", "Rain Jackets"])
    assert jacket != glyph(["Apparel", "Tops", "T-Shirts"])
    assert glyph(["Apparel", "Outerwear", "Softshell Jackets"]) == GLYPHS["fleece jackets"]
    assert glyph(["Footwear", "Boots", "Work Boots"]) == GLYPHS["hiking boots"]
    for path in (["Apparel", "Outerwear", "Rain Jackets"], ["Footwear", "Sandals", "Sandals"]):
        svg = ET.fromstring(render_product_svg(_product(category=path)))
        details = [p for p in svg.iter(f"{SVG}path") if p.get("class") == "detail"]
        assert len(details) == 1 and details[0].get("fill") == "none"


def test_the_colour_asked_for_is_drawn_when_the_product_has_it():
    jacket = _product(colors=["black", "green"], category=["Apparel", "Outerwear", "Rain Jackets"])
    fill = lambda svg: ET.fromstring(svg).find(f"{SVG}path").get("fill")  # noqa: E731
    assert fill(render_product_svg(jacket)) == COLOR_HEX["black"]  # the first colour
    assert fill(render_product_svg(jacket, "Green")) == COLOR_HEX["green"]
    assert fill(render_product_svg(jacket, "red")) == COLOR_HEX["black"]  # not one of its colours


def test_unknown_colour_and_category_still_render():
    root = ET.fromstring(render_product_svg(_product(colors=["Dusty Sunset"], category=["Toys"])))
    fill = root.find(f"{SVG}path").get("fill")
    assert fill.startswith("#") and len(fill) == 7
    assert fill == color_hex("dusty sunset")  # stable for the same word
    assert color_hex("Heather Grey") == COLOR_HEX["grey"]  # the colour word inside a name is used
    ET.fromstring(render_product_svg(_product(colors=[], category=[])))


def test_long_titles_are_wrapped_into_two_short_lines():
    title = "Extraordinarily Long Product Title With Very Many Words That Keeps Going On"
    texts = [t.text for t in ET.fromstring(render_product_svg(_product(title=title))).iter(f"{SVG}text")]
    assert 1 <= len(texts) <= 2 and all(len(t) <= 24 for t in texts)
