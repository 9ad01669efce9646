"""common.domain reads the intents and entities of domain.yml, and the code's own lists of
intent names (deliberate subsets) only name intents the domain has."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from common import domain

ROOT = Path(__file__).resolve().parents[2]


def listed_under(key: str, text: str) -> list[str]:
    """The names listed in a top-level block of a domain file, read line by line (no YAML)."""
    block = re.search(rf"^{key}:\n((?:[ #].*\n|\n)*)", text, re.M)
    assert block, key
    return re.findall(r"^  - ([a-z_]+)", block.group(1), re.M)


def test_intents_are_the_domain_files() -> None:
    expected = listed_under("intents", (ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert domain.intents() == tuple(expected)
    assert len(set(expected)) == len(expected)
    assert {"track_order", "cancel_order", "search_product", "greet", "out_of_scope"} <= set(expected)


def test_entities_are_names_without_their_roles() -> None:
    expected = listed_under("entities", (ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert domain.entities() == tuple(expected)
    assert "brand" in expected and "price" in expected


def test_another_domain_file_and_an_edit_are_read(tmp_path: Path) -> None:
    path = tmp_path / "domain.yml"
    path.write_text('version: "3.1"\nintents:\n  - greet\nentities:\n  - size\n  - price:\n      roles: [min]\n')
    assert domain.intents(path) == ("greet",)
    assert domain.entities(str(path)) == ("size", "price")
    path.write_text('version: "3.1"\nintents:\n  - greet\n  - goodbye\n')
    os.utime(path, ns=(1, 1))  # a new modification time, however fast the file system's clock
    assert domain.intents(path) == ("greet", "goodbye")
    assert domain.entities(path) == ()


def test_the_code_names_only_domain_intents() -> None:
    from actions import forms
    from actions.faq import FAQ_INTENTS
    from learning import export
    from tools import eval_nlu

    known = set(domain.intents())
    lists = {
        "actions.faq.FAQ_INTENTS": set(FAQ_INTENTS),
        "actions.forms intents": (forms.ANSWER_INTENTS - {"nlu_fallback"}) | forms.ESCAPE_INTENTS
        | {i for intents in forms.REQUEST_INTENTS.values() for i in intents},
        "learning.export intents": export.SEARCH_INTENTS | export.CONTEXT_INTENTS
        | export.GOOD_END_INTENTS | (export.FALLBACK_INTENTS - {"nlu_fallback"}),
        "tools.eval_nlu.BITEXT_INTENTS": set(eval_nlu.BITEXT_INTENTS),
    }
    assert {name: sorted(names - known) for name, names in lists.items()} == dict.fromkeys(lists, [])
    # the customer-service part of the domain is the Bitext taxonomy, all of it scored
    assert eval_nlu.BITEXT_INTENTS == eval_nlu.BITEXT_TAXONOMY


def test_the_reader_needs_no_settings_model() -> None:
    """tools/eval_nlu.py runs it under Rasa's Python, which has PyYAML but no pydantic-settings."""
    code = "import sys; import common.domain as d; d.intents(); print(sorted(m for m in sys.modules if m.startswith(('pydantic', 'common'))))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['common', 'common.domain']"
