"""The dependency rule of docs/architecture.md, read from the imports of every module.

Each package may import only the packages listed for it; ``bot`` and ``actions`` are imported by
nobody (the gateway is the top, Rasa loads the actions); nothing imports ``tests``; and there is
no import cycle between modules, function-local imports included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

ALLOWED: dict[str, set[str]] = {
    "common": set(),
    "recommender": {"common"},
    "shop": {"common", "recommender"},
    "learning": {"common", "recommender"},
    "actions": {"common", "recommender", "shop"},
    "bot": {"common", "recommender", "learning"},
    "rasa_ext": set(),
    "tools": {"common", "recommender", "shop", "learning"},
}
PROJECT = set(ALLOWED) | {"tests"}
# the old command name `python -m recommender.shop` stays for outside scripts: it only calls shop
# the shopping intents are listed once, in the NLU component's stdlib-only logic
EXCEPTIONS = {("recommender.shop.__main__", "shop.__main__"),
              ("actions.fallback", "rasa_ext.intent_evidence")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(packages: set[str]) -> dict[str, Path]:
    found = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules that ``name`` imports, anywhere in its body."""
    is_package = path.name == "__init__.py"
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            # `from pkg import mod` imports the module pkg.mod when there is one
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        out.update(t for t in targets if t.split(".")[0] in PROJECT)
    return out


def graph() -> dict[str, set[str]]:
    found = modules(set(ALLOWED))
    known = set(found)
    return {name: imports(name, path, known) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in edges:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_package_imports_only_what_the_rule_allows() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, targets in graph().items()
        for target in sorted(targets)
        if (top := target.split(".")[0]) != name.split(".")[0] and top not in ALLOWED[name.split(".")[0]]
        and (name, target) not in EXCEPTIONS
    ]
    assert wrong == []


def test_there_is_no_import_cycle() -> None:
    assert cycles(graph()) == []


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
    ],
)
def test_the_cycle_finder_finds_cycles(edges: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(edges) == expected


def test_relative_and_from_imports_resolve_to_modules(tmp_path: Path) -> None:
    source = "from . import rules\nfrom .sql.service import X\nfrom shop import faq\nimport recommender.query\n"
    known = {"shop.rules", "shop.sql.service", "shop.faq", "recommender.query"}
    probe = tmp_path / "__init__.py"
    probe.write_text(source)
    assert imports("shop", probe, known) == known
