"""The ShopBackend protocol is exactly what the actions call, and ShopData provides it.

``protocol_mismatches`` is the check a connector to another shop system can reuse on its class.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from shop import ShopBackend, ShopData

ROOT = Path(__file__).resolve().parents[2]


def protocol_methods() -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(ShopBackend).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


def protocol_mismatches(cls: type) -> list[str]:
    """What keeps ``cls`` from serving as a ShopBackend: a missing method, a parameter it lacks
    or names differently, or a parameter of its own the actions would not pass (no default)."""
    wrong = []
    for name, wanted in protocol_methods().items():
        method = getattr(cls, name, None)
        if not callable(method):
            wrong.append(f"{name}: missing")
            continue
        have = list(inspect.signature(method).parameters.values())
        for index, param in enumerate(wanted.parameters.values()):
            if index >= len(have) or have[index].name != param.name:
                wrong.append(f"{name}: parameter {index} should be {param.name!r}")
            elif param.default is not param.empty and have[index].default is param.empty:
                wrong.append(f"{name}: {param.name!r} needs a default")
        extra = have[len(wanted.parameters) :]
        wrong += [f"{name}: extra {p.name!r} needs a default" for p in extra if p.default is p.empty]
    return wrong


def shop_calls_in_actions() -> set[str]:
    """Methods called on a shop in actions/: ``shop.x(...)``, ``….shop.x`` (also passed to off_loop)."""
    called = set()
    for path in sorted((ROOT / "actions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute):
                continue
            owner = node.value
            if (isinstance(owner, ast.Name) and owner.id == "shop") or (
                isinstance(owner, ast.Attribute) and owner.attr == "shop"
            ):
                called.add(node.attr)
    return called


def test_the_protocol_is_what_the_actions_call() -> None:
    assert shop_calls_in_actions() == set(protocol_methods())


def test_shop_data_is_a_shop_backend() -> None:
    assert protocol_mismatches(ShopData) == []


def test_the_check_finds_what_is_wrong() -> None:
    class Partial:
        def verify_order(self, order_id, email, strict): ...

        def order_status(self, order, email): ...

    wrong = protocol_mismatches(Partial)
    assert "verify_order: extra 'strict' needs a default" in wrong
    assert "order_status: parameter 1 should be 'order_id'" in wrong
    assert "cancel_order: missing" in wrong
