"""Product pictures drawn on demand: a small SVG of the product's kind in its first colour.

The gateway serves ``/images/<id>.svg`` with :func:`render_product_svg`. The glyph follows the
leaf of the product's category (a rain jacket is drawn as a hooded jacket, a sandal as a sandal,
not every garment as a T-shirt); a leaf this module does not know is matched by the words in
its name ("… Jackets" → a jacket), then by the department, then drawn as a box. The fill is the
product's first colour, or the colour asked for (``?color=``) when the product comes in it, so a
card that says "green ✓" shows a green picture. Nothing is fetched over the network; every
piece of product text is XML-escaped, so a title cannot inject markup.
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


# --- shape helpers (absolute coordinates in the 320×320 picture; the glyph sits above y 220) ---

def _poly(*points: float) -> str:
    xy = [f"{points[i]:g} {points[i + 1]:g}" for i in range(0, len(points), 2)]
    return "M" + " L".join(xy) + " Z"


def _rect(x: float, y: float, w: float, h: float, r: float = 0) -> str:
    if not r:
        return f"M{x:g} {y:g} h{w:g} v{h:g} h{-w:g} Z"
    return (f"M{x + r:g} {y:g} h{w - 2 * r:g} a{r:g} {r:g} 0 0 1 {r:g} {r:g} v{h - 2 * r:g} "
            f"a{r:g} {r:g} 0 0 1 {-r:g} {r:g} h{-(w - 2 * r):g} a{r:g} {r:g} 0 0 1 {-r:g} {-r:g} "
            f"v{-(h - 2 * r):g} a{r:g} {r:g} 0 0 1 {r:g} {-r:g} Z")


def _ellipse(cx: float, cy: float, rx: float, ry: float | None = None) -> str:
    ry = rx if ry is None else ry
    return (f"M{cx - rx:g} {cy:g} a{rx:g} {ry:g} 0 1 0 {2 * rx:g} 0 "
            f"a{rx:g} {ry:g} 0 1 0 {-2 * rx:g} 0 Z")


def _line(*points: float) -> str:
    xy = [f"{points[i]:g} {points[i + 1]:g}" for i in range(0, len(points), 2)]
    return "M" + " L".join(xy)


def _j(*parts: str) -> str:
    return " ".join(parts)


# tops: the body from shoulders to hem, with sleeves of a given kind
_TEE = _poly(110, 70, 140, 58, 180, 58, 210, 70, 240, 104, 214, 122, 204, 110, 204, 212,
             116, 212, 116, 110, 106, 122, 80, 104)
_LONG = _poly(112, 66, 140, 56, 180, 56, 208, 66, 236, 106, 248, 200, 224, 204, 208, 126, 208, 212,
              112, 212, 112, 126, 96, 204, 72, 200, 84, 106)
_JACKET = _poly(108, 70, 138, 56, 182, 56, 212, 70, 238, 110, 246, 206, 222, 208, 212, 130,
                212, 214, 108, 214, 108, 130, 98, 208, 74, 206, 82, 110)

# glyph = (filled body, detail drawn as a stroke in the contrasting colour)
GLYPHS: dict[str, tuple[str, str]] = {
    # ---------------------------------------------------------------- apparel
    "t-shirts": (_TEE, _line(140, 58, 160, 74, 180, 58)),
    "shirts": (_LONG, _j(_line(140, 56, 160, 84, 180, 56), _line(160, 84, 160, 212),
                         _line(154, 110, 166, 110), _line(154, 140, 166, 140), _line(154, 170, 166, 170))),
    "hoodies & sweatshirts": (_j(_LONG, _ellipse(160, 60, 34, 22)),
                              _j(_line(136, 170, 184, 170, 190, 206, 130, 206, 136, 170),
                                 _line(150, 80, 148, 110), _line(170, 80, 172, 110))),
    "running tops": (_poly(128, 58, 144, 58, 150, 84, 170, 84, 176, 58, 192, 58, 196, 104, 206, 212,
                           114, 212, 124, 104), _line(118, 150, 202, 150)),
    "sweaters": (_LONG, _j(_line(116, 196, 204, 196), _line(116, 204, 204, 204),
                           _line(140, 56, 160, 70, 180, 56))),
    "coats": (_poly(108, 66, 138, 54, 182, 54, 212, 66, 236, 106, 244, 206, 222, 208, 212, 126,
                    218, 220, 102, 220, 108, 126, 98, 208, 76, 206, 84, 106),
              _j(_line(140, 54, 158, 110, 160, 220), _line(180, 54, 162, 110),
                 _ellipse(172, 130, 3), _ellipse(172, 160, 3), _ellipse(172, 190, 3))),
    "down jackets": (_JACKET, _j(_line(110, 100, 210, 100), _line(110, 130, 210, 130),
                                 _line(110, 160, 210, 160), _line(110, 190, 210, 190),
                                 _line(160, 56, 160, 214))),
    "fleece jackets": (_JACKET, _j(_line(160, 60, 160, 214), _line(138, 56, 138, 44, 182, 44, 182, 56),
                                   _line(122, 150, 142, 150), _line(178, 150, 198, 150))),
    "rain jackets": (_j(_JACKET, _poly(128, 64, 132, 40, 160, 26, 188, 40, 192, 64)),
                     _j(_line(160, 44, 160, 214), _line(140, 62, 160, 80, 180, 62),
                        _line(120, 170, 140, 176), _line(200, 170, 180, 176))),
    "pajamas": (_j(_poly(86, 72, 110, 62, 134, 62, 158, 72, 170, 112, 152, 118, 148, 100, 148, 160,
                         96, 160, 96, 100, 92, 118, 74, 112),
                   _poly(176, 96, 244, 96, 250, 212, 222, 212, 210, 134, 198, 212, 170, 212)),
                _j(_line(122, 66, 122, 160), _line(176, 108, 244, 108))),
    "jeans": (_poly(112, 56, 208, 56, 222, 212, 176, 212, 160, 110, 144, 212, 98, 212),
              _j(_line(112, 72, 208, 72), _line(126, 72, 132, 96, 150, 96),
                 _line(194, 72, 188, 96, 170, 96), _line(160, 72, 160, 110))),
    "leggings": (_poly(124, 56, 196, 56, 204, 120, 196, 212, 174, 212, 166, 104, 160, 100, 154, 104,
                       146, 212, 124, 212, 116, 120), _line(124, 68, 196, 68)),
    "shorts": (_poly(108, 80, 212, 80, 226, 176, 170, 184, 160, 130, 150, 184, 94, 176),
               _j(_line(108, 96, 212, 96), _line(160, 96, 160, 130))),
    "trousers": (_poly(114, 56, 206, 56, 216, 212, 178, 212, 160, 100, 142, 212, 104, 212),
                 _j(_line(114, 70, 206, 70), _line(130, 90, 124, 200), _line(190, 90, 196, 200))),
    "dresses": (_poly(136, 52, 146, 52, 150, 78, 170, 78, 174, 52, 184, 52, 190, 100, 178, 120,
                      226, 214, 94, 214, 142, 120, 130, 100), _line(142, 120, 178, 120)),
    "skirts": (_poly(124, 74, 196, 74, 232, 206, 88, 206), _j(_line(124, 90, 196, 90),
                                                              _line(142, 90, 128, 206),
                                                              _line(178, 90, 192, 206))),
    "hats": (_j(_rect(94, 150, 132, 34, 10), _poly(104, 150, 112, 104, 136, 80, 184, 80, 208, 104,
                                                   216, 150), _ellipse(160, 72, 14)),
             _j(_line(118, 150, 118, 184), _line(142, 150, 142, 184), _line(166, 150, 166, 184),
                _line(190, 150, 190, 184))),
    "scarves & gloves": (_poly(120, 212, 120, 140, 100, 128, 92, 104, 104, 96, 124, 112, 124, 66,
                               140, 60, 146, 90, 150, 58, 166, 56, 170, 90, 176, 62, 192, 66, 194, 96,
                               206, 80, 220, 88, 204, 140, 204, 212),
                         _line(120, 186, 204, 186)),
    "socks": (_poly(126, 52, 176, 52, 176, 150, 228, 172, 232, 200, 214, 214, 156, 210, 128, 184),
              _j(_line(126, 70, 176, 70), _line(200, 164, 210, 212), _line(138, 178, 156, 206))),
    # ---------------------------------------------------------------- footwear
    "hiking boots": (_poly(112, 58, 168, 58, 170, 146, 212, 156, 236, 176, 238, 212, 94, 212, 96, 186,
                           110, 160),
                     _j(_line(96, 196, 238, 196), _line(150, 74, 170, 82), _line(148, 94, 170, 102),
                        _line(148, 114, 170, 122), _line(148, 134, 172, 142))),
    "winter boots": (_j(_poly(110, 78, 170, 78, 172, 150, 214, 158, 238, 180, 238, 212, 96, 212,
                              98, 182, 108, 150),
                        _poly(100, 80, 108, 58, 120, 66, 132, 54, 144, 64, 156, 52, 168, 64, 180, 56,
                              184, 82)), _line(98, 196, 238, 196)),
    "chelsea boots": (_poly(118, 56, 170, 56, 170, 150, 216, 162, 240, 186, 240, 212, 100, 212,
                            104, 176, 116, 150),
                      _j(_line(130, 80, 144, 110, 158, 80), _line(104, 200, 240, 200),
                         _line(118, 56, 118, 40, 132, 40))),
    "rain boots": (_poly(112, 40, 176, 40, 178, 160, 216, 168, 236, 188, 236, 214, 98, 214, 104, 170,
                         110, 150),
                   _j(_line(108, 56, 180, 56), _line(100, 200, 236, 200))),
    "dress shoes": (_poly(82, 176, 92, 142, 136, 136, 178, 156, 228, 166, 246, 186, 244, 204, 86, 204),
                    _j(_line(86, 192, 244, 192), _line(140, 142, 152, 164), _line(150, 140, 164, 160))),
    "flats & heels": (_poly(84, 190, 100, 150, 122, 154, 170, 176, 222, 164, 240, 176, 236, 192, 226,
                            194, 224, 216, 214, 216, 212, 194, 120, 200),
                      _line(100, 150, 122, 182)),
    "sandals": (_j(_poly(82, 196, 90, 180, 236, 176, 248, 188, 240, 204, 90, 206),
                   _poly(120, 180, 132, 134, 148, 134, 140, 180),
                   _poly(176, 178, 180, 148, 210, 150, 204, 177)),
                _line(88, 196, 244, 192)),
    "slippers": (_poly(80, 196, 84, 168, 114, 140, 162, 138, 214, 150, 246, 178, 244, 204, 88, 206),
                 _j(_line(120, 142, 126, 204), _line(90, 194, 244, 194))),
    "casual sneakers": (_poly(80, 200, 84, 158, 120, 148, 148, 124, 168, 128, 196, 156, 236, 168,
                              246, 188, 244, 206, 84, 206),
                        _j(_line(82, 190, 246, 190), _line(150, 136, 160, 150), _line(142, 146, 152, 160),
                           _line(134, 156, 144, 170))),
    "running shoes": (_poly(78, 198, 86, 162, 124, 150, 154, 120, 174, 126, 200, 154, 238, 164,
                            250, 184, 246, 204, 82, 206),
                      _j(_line(82, 190, 248, 188), _line(118, 176, 160, 166, 210, 178))),
    "trail running shoes": (_j(_poly(80, 196, 86, 162, 124, 150, 154, 120, 174, 126, 200, 154,
                                     238, 164, 250, 184, 246, 196),
                               _poly(80, 196, 246, 196, 240, 214, 226, 206, 212, 214, 198, 206, 184, 214,
                                     170, 206, 156, 214, 142, 206, 128, 214, 114, 206, 100, 214, 86, 206)),
                            _j(_line(118, 176, 160, 166, 210, 178), _line(150, 128, 160, 142))),
    # ---------------------------------------------------------------- electronics
    "headphones": (_j(_poly(96, 160, 96, 130, 112, 84, 160, 70, 208, 84, 224, 130, 224, 160, 206, 160,
                            206, 130, 194, 98, 160, 88, 126, 98, 114, 130, 114, 160),
                      _rect(84, 146, 38, 66, 12), _rect(198, 146, 38, 66, 12)),
                   _j(_line(94, 164, 94, 196), _line(226, 164, 226, 196))),
    "wireless earbuds": (_j(_rect(110, 130, 100, 80, 30), _ellipse(130, 86, 16), _rect(124, 90, 12, 34, 5),
                            _ellipse(190, 86, 16), _rect(184, 90, 12, 34, 5)),
                         _j(_line(110, 156, 210, 156), _ellipse(160, 184, 4))),
    "bluetooth speakers": (_rect(92, 84, 136, 124, 36),
                           _j(_ellipse(160, 146, 36), _ellipse(160, 146, 14), _ellipse(116, 108, 5))),
    "cables & hubs": (_j(_rect(80, 88, 40, 60, 8), _rect(200, 150, 40, 60, 8),
                         _rect(90, 70, 20, 20), _rect(210, 208, 20, 10)),
                      _line(100, 148, 100, 186, 140, 206, 180, 120, 220, 150)),
    "action cameras": (_rect(96, 96, 128, 100, 14), _j(_ellipse(174, 146, 30), _ellipse(174, 146, 14),
                                                       _rect(110, 110, 24, 16))),
    "keyboards": (_rect(64, 116, 192, 82, 10),
                  _j(*[_line(76, y, 244, y) for y in (136, 156, 176)],
                     *[_line(x, 124, x, 190) for x in (100, 124, 148, 172, 196, 220)])),
    "mice": (_ellipse(160, 146, 46, 68), _j(_line(160, 78, 160, 128), _line(116, 128, 204, 128),
                                            _rect(155, 94, 10, 18, 5))),
    "webcams": (_j(_ellipse(160, 112, 52, 44), _poly(136, 150, 184, 150, 196, 200, 124, 200),
                   _rect(96, 200, 128, 14, 6)),
                _j(_ellipse(160, 112, 22), _ellipse(160, 112, 8), _ellipse(196, 90, 4))),
    "e-readers": (_rect(108, 52, 104, 160, 12), _j(_rect(120, 66, 80, 116, 2), _line(132, 86, 188, 86),
                                                   _line(132, 104, 188, 104), _line(132, 122, 188, 122),
                                                   _line(132, 140, 174, 140), _line(148, 198, 172, 198))),
    "chargers": (_j(_rect(110, 92, 100, 116, 16), _rect(132, 60, 14, 34), _rect(174, 60, 14, 34)),
                 _j(_line(160, 208, 160, 218, 240, 218), _ellipse(160, 150, 10))),
    "power banks": (_rect(96, 66, 128, 148, 18),
                    _j(_rect(128, 96, 64, 88, 4), _line(136, 164, 184, 164), _line(136, 144, 184, 144),
                       _line(136, 124, 184, 124), _line(146, 70, 174, 70))),
    "fitness trackers": (_j(_rect(138, 40, 44, 176, 20), _rect(124, 98, 72, 60, 20)),
                         _j(_rect(138, 110, 44, 36, 8), _line(150, 128, 156, 122, 164, 134, 170, 126))),
    "smartwatches": (_j(_rect(132, 40, 56, 70, 8), _rect(132, 190, 56, 30, 8), _rect(110, 92, 100, 108, 24)),
                     _j(_rect(124, 106, 72, 80, 14), _line(160, 146, 160, 122), _line(160, 146, 178, 156),
                        _line(212, 130, 218, 130))),
    # ---------------------------------------------------------------- home
    "towels": (_j(_rect(80, 150, 160, 30, 8), _rect(90, 118, 140, 30, 8), _rect(100, 86, 120, 30, 8)),
               _j(_line(80, 168, 240, 168), _line(90, 136, 230, 136), _line(100, 104, 220, 104))),
    "duvet covers": (_rect(70, 92, 180, 116, 12),
                     _j(_line(70, 130, 250, 130), _line(92, 104, 138, 104, 138, 124, 92, 124, 92, 104),
                        _line(182, 104, 228, 104, 228, 124, 182, 124, 182, 104))),
    "pillows": (_poly(76, 96, 112, 106, 208, 106, 244, 96, 234, 150, 244, 204, 208, 194, 112, 194,
                      76, 204, 86, 150),
                _line(112, 150, 208, 150)),
    "sheet sets": (_j(_rect(78, 160, 164, 22, 4), _rect(78, 134, 164, 22, 4), _rect(78, 108, 164, 22, 4),
                      _rect(78, 82, 164, 22, 4)),
                   _j(_line(200, 82, 200, 182), _line(210, 82, 210, 182))),
    "throw blankets": (_poly(84, 70, 236, 70, 236, 190, 84, 190),
                       _j(_line(84, 110, 236, 110), _line(84, 150, 236, 150), _line(134, 70, 134, 190),
                          _line(186, 70, 186, 190),
                          *[_line(x, 190, x, 208) for x in range(90, 236, 12)])),
    "candles": (_j(_rect(112, 108, 96, 104, 12), _poly(160, 58, 174, 82, 166, 98, 154, 98, 146, 82)),
                _j(_line(160, 98, 160, 110), _line(112, 132, 208, 132))),
    "cushions": (_rect(90, 78, 140, 128, 28), _j(_line(104, 92, 216, 192), _line(216, 92, 104, 192),
                                                 _ellipse(160, 142, 6))),
    "rugs": (_rect(76, 76, 168, 128, 4),
             _j(_rect(96, 94, 128, 92), _poly(160, 110, 196, 140, 160, 170, 124, 140),
                *[_line(76, y, 64, y) for y in range(84, 204, 14)],
                *[_line(244, y, 256, y) for y in range(84, 204, 14)])),
    "coffee & tea": (_j(_rect(100, 96, 100, 112, 14), _poly(200, 112, 226, 112, 236, 124, 236, 160,
                                                          224, 176, 200, 180, 200, 164, 218, 158,
                                                          220, 128, 200, 128)),
                     _j(_line(130, 58, 124, 76, 132, 88), _line(156, 54, 150, 74, 158, 86),
                        _line(182, 58, 176, 76, 184, 88))),
    "cookware": (_j(_rect(70, 120, 132, 70, 14), _rect(200, 138, 70, 14, 6), _rect(60, 112, 152, 12, 6)),
                 _line(84, 168, 188, 168)),
    "drinkware": (_poly(114, 60, 206, 60, 192, 212, 128, 212),
                  _j(_line(118, 94, 202, 94), _line(146, 60, 138, 200))),
    "knives": (_j(_poly(78, 150, 206, 116, 214, 120, 214, 150), _rect(214, 134, 46, 20, 6)),
               _j(_line(92, 148, 206, 128), _ellipse(230, 144, 2.5), _ellipse(246, 144, 2.5))),
    "lamps": (_j(_poly(120, 60, 200, 60, 222, 130, 98, 130), _rect(154, 130, 12, 68),
                 _rect(118, 196, 84, 16, 8)), _line(104, 116, 216, 116)),
    "baskets & bins": (_j(_poly(84, 100, 236, 100, 220, 212, 100, 212), _rect(78, 90, 164, 16, 6)),
                       _j(_line(96, 130, 226, 130), _line(100, 160, 222, 160), _line(104, 190, 218, 190),
                          _line(130, 106, 134, 212), _line(160, 106, 160, 212), _line(190, 106, 186, 212))),
    # ---------------------------------------------------------------- outdoor
    "tents": (_poly(160, 56, 250, 206, 70, 206), _j(_line(160, 56, 160, 206), _line(160, 120, 132, 206),
                                                    _line(160, 120, 188, 206), _line(56, 206, 264, 206))),
    "sleeping bags": (_j(_ellipse(160, 78, 34, 28), _poly(128, 80, 192, 80, 210, 150, 196, 214, 124, 214,
                                                          110, 150)),
                      _j(_ellipse(160, 80, 18, 14), _line(150, 100, 144, 210),
                         _line(116, 150, 204, 150))),
    "sleeping pads": (_j(_rect(76, 126, 120, 70, 6), _ellipse(210, 161, 34, 40)),
                      _j(_ellipse(210, 161, 18, 22), _line(96, 126, 96, 196), _line(120, 126, 120, 196),
                         _line(144, 126, 144, 196), _line(168, 126, 168, 196))),
    "camp furniture": (_j(_rect(104, 70, 112, 70, 8), _rect(96, 136, 128, 20, 6)),
                       _j(_line(104, 156, 216, 212), _line(216, 156, 104, 212), _line(104, 70, 104, 212),
                          _line(216, 70, 216, 212))),
    "camp kitchen": (_j(_rect(96, 96, 128, 60, 10), _rect(84, 90, 152, 10, 5),
                        _poly(120, 156, 200, 156, 216, 212, 104, 212)),
                     _j(_line(136, 176, 128, 212), _line(184, 176, 192, 212), _line(134, 66, 146, 84),
                        _line(160, 60, 160, 84), _line(186, 66, 174, 84))),
    "bike helmets": (_poly(72, 170, 84, 116, 120, 84, 168, 76, 214, 90, 244, 124, 250, 170, 226, 164,
                           196, 176, 150, 180, 108, 176),
                     _j(_line(120, 96, 136, 150), _line(160, 84, 168, 150), _line(200, 96, 200, 150),
                        _line(100, 176, 110, 206, 150, 206, 190, 178))),
    "headlamps": (_j(_ellipse(160, 140, 76, 46), _rect(126, 102, 68, 60, 14)),
                  _j(_ellipse(160, 132, 20), _ellipse(160, 132, 8), _line(88, 150, 232, 150))),
    "trekking poles": (_j(_poly(118, 40, 132, 40, 130, 70, 126, 214, 124, 214, 120, 70),
                          _poly(188, 40, 202, 40, 200, 70, 196, 214, 194, 214, 190, 70)),
                       _j(_line(116, 74, 134, 74), _line(186, 74, 204, 74), _line(112, 196, 138, 196),
                          _line(182, 196, 208, 196))),
    "water bottles": (_j(_rect(120, 84, 80, 130, 20), _rect(138, 52, 44, 34, 6)),
                      _j(_line(120, 120, 200, 120), _line(120, 180, 200, 180), _line(144, 52, 176, 52))),
    "backpacks": (_j(_rect(104, 66, 112, 148, 30), _poly(140, 66, 146, 44, 174, 44, 180, 66)),
                  _j(_rect(124, 146, 72, 48, 10), _line(124, 160, 196, 160), _line(104, 112, 216, 112))),
    "dry bags": (_j(_poly(116, 74, 204, 74, 214, 210, 106, 210), _rect(108, 50, 104, 26, 10)),
                 _j(_line(112, 64, 208, 64), _line(116, 96, 204, 96),
                    _line(128, 50, 124, 40, 196, 40, 192, 50))),
}

# a leaf the table does not name: its last word that names a known kind
KIND_WORDS: dict[str, str] = {
    "jacket": "fleece jackets", "jackets": "fleece jackets", "parka": "down jackets", "coat": "coats",
    "coats": "coats", "shirt": "shirts", "shirts": "shirts", "tee": "t-shirts", "tees": "t-shirts",
    "t-shirt": "t-shirts", "t-shirts": "t-shirts", "hoodie": "hoodies & sweatshirts",
    "hoodies": "hoodies & sweatshirts", "sweater": "sweaters", "sweaters": "sweaters",
    "jumper": "sweaters", "dress": "dresses", "dresses": "dresses", "skirt": "skirts",
    "skirts": "skirts", "jeans": "jeans", "trousers": "trousers", "pants": "trousers",
    "shorts": "shorts", "leggings": "leggings", "hat": "hats", "hats": "hats", "cap": "hats",
    "caps": "hats", "socks": "socks", "gloves": "scarves & gloves", "boot": "hiking boots",
    "boots": "hiking boots", "sneakers": "casual sneakers", "shoes": "running shoes",
    "sandals": "sandals", "slippers": "slippers", "heels": "flats & heels",
    "headphones": "headphones", "earbuds": "wireless earbuds", "speakers": "bluetooth speakers",
    "speaker": "bluetooth speakers", "cameras": "action cameras", "camera": "action cameras",
    "keyboards": "keyboards", "mice": "mice", "mouse": "mice", "watches": "smartwatches",
    "chargers": "chargers", "cables": "cables & hubs", "towels": "towels", "pillows": "pillows",
    "blankets": "throw blankets", "candles": "candles", "cushions": "cushions", "rugs": "rugs",
    "cookware": "cookware", "pans": "cookware", "mugs": "coffee & tea", "knives": "knives",
    "lamps": "lamps", "baskets": "baskets & bins", "tents": "tents", "backpacks": "backpacks",
    "bags": "dry bags", "bottles": "water bottles", "helmets": "bike helmets",
}

# the department's own drawing, when neither the leaf nor its words are known
ICONS: dict[str, str] = {
    "apparel": GLYPHS["t-shirts"][0],
    "footwear": GLYPHS["hiking boots"][0],
    "electronics": GLYPHS["headphones"][0],
    "home": _poly(160, 58, 240, 128, 222, 128, 222, 212, 98, 212, 98, 128, 80, 128),  # a house
    "outdoor": GLYPHS["tents"][0],
}
DEFAULT_ICON = _rect(96, 80, 128, 128)  # a box


def glyph(category: list[str] | tuple[str, ...] | None) -> tuple[str, str]:
    """(body, detail) of the drawing for a category path (root first)."""
    path = [str(c).strip().lower() for c in category or [] if str(c).strip()]
    if not path:
        return DEFAULT_ICON, ""
    leaf = path[-1]
    if leaf in GLYPHS:
        return GLYPHS[leaf]
    for word in reversed(leaf.replace("&", " ").split()):
        if word in KIND_WORDS:
            return GLYPHS[KIND_WORDS[word]]
    return ICONS.get(path[0], DEFAULT_ICON), ""


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


def drawn_color(product: Product, wanted: str | None = None) -> str | None:
    """The colour the picture shows: ``wanted`` when the product comes in it, else its first."""
    if wanted:
        for color in product.colors:
            if color.strip().lower() == wanted.strip().lower():
                return color
    return product.colors[0] if product.colors else None


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


def render_product_svg(product: Product, color: str | None = None) -> str:
    """A 320×320 SVG picture of ``product``: the glyph of its kind in its colour, and a caption.

    ``color``: a colour the product comes in (the one a shopper asked for); others are ignored."""
    fill = color_hex(drawn_color(product, color))
    body, detail = glyph(product.category)
    light = _is_light(fill)
    background = "#2b2f36" if light else "#f3f1ec"
    caption_color = "#f3f1ec" if light else "#2b2f36"
    outline = "#00000033" if light else "#ffffff22"
    ink = "#00000066" if light else "#ffffff8c"
    label = escape(product.title, {'"': "&quot;"})
    caption = "".join(
        f'<text x="160" y="{250 + 24 * i}" text-anchor="middle">{escape(line)}</text>'
        for i, line in enumerate(_caption_lines(product.title))
    )
    details = (f'<path class="detail" d="{detail}" fill="none" stroke="{ink}" stroke-width="4" '
               'stroke-linecap="round" stroke-linejoin="round"/>') if detail else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}">'
        f"<title>{escape(product.title)}</title>"
        f'<rect width="{WIDTH}" height="{HEIGHT}" rx="16" fill="{background}"/>'
        f'<path d="{body}" fill="{fill}" stroke="{outline}" stroke-width="3" stroke-linejoin="round"/>'
        f"{details}"
        f'<g fill="{caption_color}" font-family="system-ui, sans-serif" font-size="18" font-weight="600">'
        f"{caption}</g></svg>"
    )
