"""Product pictures drawn on demand: a small SVG from the product's first colour and category.

The gateway serves ``/images/<id>.svg`` with :func:`render_product_svg`. Nothing is fetched
over the network; every piece of product text is XML-escaped, so a title cannot inject markup.
"""

from __future__ import annotations

import colorsys
import hashlib
from xml.sax.saxutils import escape

from recommender.catalog import Product

WIDTH, HEIGHT = 320, 320

# colour words used by the demo shop (and common ones of other shops) → fill colour
COLOR_HEX: dict[str, str] = {
    "black": "#222222", "white": "#f4f4f2", "navy": "#1f2f57", "grey": "#8a8d91", "gray": "#8a8d91",
    "charcoal": "#3b3f44", "olive": "#6b7035", "burgundy": "#7a1f34", "cream": "#efe6cf",
    "camel": "#c19a6b", "red": "#c8362e", "blue": "#2f6fc0", "green": "#3f8f4a", "pink": "#e79ab4",
    "beige": "#dccbab", "brown": "#6f4a2f", "mustard": "#d0a431", "teal": "#1f8a8a",
    "lavender": "#b2a1d9", "tan": "#c9a27a", "silver": "#c0c4c8", "graphite": "#4a4d52",
    "midnight blue": "#1b2541", "rose gold": "#d8a497", "sage green": "#9cb39a", "sage": "#9cb39a",
    "terracotta": "#c46a46", "natural": "#d9cdb4", "blush": "#eab8ad", "orange": "#e3782b",
    "yellow": "#e8c62f", "purple": "#7b4fa0", "gold": "#caa544",
}

# one simple icon per category root, drawn in a 200×200 box (centre 160,140)
ICONS: dict[str, str] = {
    # a T-shirt
    "apparel": "M110 70 L140 58 Q160 72 180 58 L210 70 L236 104 L212 120 L202 108 L202 212 "
               "L118 212 L118 108 L108 120 L84 104 Z",
    # a boot
    "footwear": "M116 60 L168 60 L168 150 Q200 152 226 170 Q240 180 238 200 L236 212 L100 212 "
                "L100 196 Q112 190 114 170 Z",
    # a pair of headphones
    "electronics": "M96 160 Q96 70 160 70 Q224 70 224 160 L206 160 Q206 88 160 88 Q114 88 114 160 Z "
                   "M86 150 L122 150 L122 212 L86 212 Z M198 150 L234 150 L234 212 L198 212 Z",
    # a house
    "home": "M160 58 L240 128 L222 128 L222 212 L98 212 L98 128 L80 128 Z",
    # a tent
    "outdoor": "M160 62 L244 212 L76 212 Z",
}
DEFAULT_ICON = "M96 80 L224 80 L224 208 L96 208 Z"  # a box


def color_hex(name: str | None) -> str:
    """A fill colour for a colour word; unknown words get a stable colour from their hash."""
    if not name:
        return "#9aa0a6"
    key = name.strip().lower()
    if key in COLOR_HEX:
        return COLOR_HEX[key]
    for word in reversed(key.split()):  # "dusty rose red" → "red"
        if word in COLOR_HEX:
            return COLOR_HEX[word]
    hue = int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:4], 16) / 0xFFFF
    r, g, b = colorsys.hls_to_rgb(hue, 0.5, 0.45)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def _is_light(hex_color: str) -> bool:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b > 170


def _caption_lines(title: str, max_chars: int = 24, max_lines: int = 2) -> list[str]:
    """The title's first words, wrapped into at most two short lines."""
    lines: list[str] = []
    current = ""
    for word in title.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= max_chars:
            current = candidate
            continue
        if current:
            lines.append(current)
        if len(lines) == max_lines:
            current = ""
            break
        current = word[:max_chars]
    if current and len(lines) < max_lines:
        lines.append(current)
    return lines


def render_product_svg(product: Product) -> str:
    """A 320×320 SVG picture of ``product``: the category icon in its first colour, and a caption."""
    fill = color_hex(product.colors[0] if product.colors else None)
    root = product.category[0].strip().lower() if product.category else ""
    icon = ICONS.get(root, DEFAULT_ICON)
    background = "#2b2f36" if _is_light(fill) else "#f3f1ec"
    caption_color = "#f3f1ec" if _is_light(fill) else "#2b2f36"
    outline = "#00000033" if _is_light(fill) else "#ffffff22"
    label = escape(product.title, {'"': "&quot;"})
    caption = "".join(
        f'<text x="160" y="{250 + 24 * i}" text-anchor="middle">{escape(line)}</text>'
        for i, line in enumerate(_caption_lines(product.title))
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}">'
        f"<title>{escape(product.title)}</title>"
        f'<rect width="{WIDTH}" height="{HEIGHT}" rx="16" fill="{background}"/>'
        f'<path d="{icon}" fill="{fill}" stroke="{outline}" stroke-width="3"/>'
        f'<g fill="{caption_color}" font-family="system-ui, sans-serif" font-size="18" font-weight="600">'
        f"{caption}</g></svg>"
    )
