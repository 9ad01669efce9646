"""The HTML pages come from bot/templates through aiohttp-jinja2, with autoescaping."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp_jinja2
import jinja2
import pytest

from bot.app import STATIC, TEMPLATES

HOSTILE = {
    "id": "P00666", "title": "<script>alert('title')</script> Runner", "brand": 'Evil" onload="x',
    "price": 1234.5, "currency": "EUR", "description": "Soft & <img src=x onerror=alert(1)>",
    "colors": ["red", "<b>blue</b>"], "sizes": ["M"], "category": ["shoes"],
}


@pytest.fixture
def hostile_catalog(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.jsonl"
    path.write_text(json.dumps(HOSTILE) + "\n", encoding="utf-8")
    return path


async def test_storefront_escapes_a_script_in_a_product_title(make_client, hostile_catalog):
    client = await make_client(catalog_path=hostile_catalog)
    resp = await client.get("/")
    page = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/html"
    assert "<h3>&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; Runner</h3>" in page
    assert "<script>alert" not in page
    assert page.count("<script") == 1  # only the widget's tag
    assert '<p class="shelf-meta">Evil&#34; onload=&#34;x</p>' in page
    assert '<p class="shelf-price">€1,234.50</p>' in page  # the price filter
    assert '<img src="/images/P00666.svg"' in page


async def test_product_page_escapes_description_and_details(make_client, hostile_catalog):
    client = await make_client(catalog_path=hostile_catalog)
    resp = await client.get("/products/P00666")
    page = await resp.text()
    assert resp.status == 200
    assert "<h2>&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; Runner</h2>" in page
    assert "<p>Soft &amp; &lt;img src=x onerror=alert(1)&gt;</p>" in page
    assert "<li>Colours: red, &lt;b&gt;blue&lt;/b&gt;</li>" in page
    assert "<li>Sizes: M</li>" in page and "Materials" not in page  # empty details left out
    assert "Featured products" not in page and 'class="shelf"' not in page
    assert page.count("<script") == 1 and "<img src=x" not in page


async def test_storefront_without_a_catalog_says_how_to_build_it(make_client, tmp_path):
    client = await make_client(catalog_path=tmp_path / "missing.jsonl")
    page = await (await client.get("/")).text()
    assert '<li class="shelf-empty">The demo catalog is not built yet' in page
    assert 'class="shelf-item"' not in page


async def test_pages_render_from_the_templates_folder(client):
    env = aiohttp_jinja2.get_env(client.app)
    assert isinstance(env.loader, jinja2.FileSystemLoader)
    assert [Path(p) for p in env.loader.searchpath] == [TEMPLATES]
    assert env.autoescape is True and env.undefined is jinja2.StrictUndefined
    for name in ("index.html", "product.html", "desk.html", "review.html"):
        assert (TEMPLATES / name).is_file()
        assert not (STATIC / name).exists()
        assert (await client.get(f"/static/{name}")).status == 404  # pages are not static files
    desk = await client.get("/desk")
    text = await desk.text()
    assert desk.status == 200 and "<title>Aisle agent desk</title>" in text
    assert 'src="/static/desk.js"' in text
    review = await client.get("/desk/review")
    text = await review.text()
    assert review.status == 200 and review.content_type == "text/html"
    assert "<h1>Review flagged messages</h1>" in text and 'src="/static/review.js"' in text
    assert "Content-Security-Policy" in review.headers
    assert (await client.get("/static/review.js")).status == 200
    assert (await client.get("/static/storefront.css")).status == 200
