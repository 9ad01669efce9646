"""bot.product_art: valid, escaped SVG drawn from colour and category."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bot.product_art import COLOR_HEX, ICONS, color_hex, render_product_svg
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
    assert path.get("d") == ICONS["footwear"]
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
def test_each_category_root_has_its_own_icon(root_name):
    svg = ET.fromstring(render_product_svg(_product(category=[root_name, "X"])))
    assert svg.find(f"{SVG}path").get("d") == ICONS[root_name.lower()]


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
