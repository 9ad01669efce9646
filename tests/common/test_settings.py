"""The one settings model: environment → typed values, bad values named at start-up."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from common.settings import ROOT, SettingsError, get_settings, variable_names


def test_defaults_resolve_against_the_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in variable_names():
        monkeypatch.delenv(name, raising=False)
    settings = get_settings()
    assert settings.catalog_path == ROOT / "data/catalog/products.jsonl"
    assert settings.store_backend == "edge"
    assert settings.gateway_port == 8080
    assert settings.cors_origins == ()


def test_environment_values_are_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AISLE_CATALOG", "shops/mine.jsonl")
    monkeypatch.setenv("AISLE_GATEWAY_PORT", "9090")
    monkeypatch.setenv("AISLE_CORS_ORIGINS", "https://a.example/, https://b.example")
    monkeypatch.setenv("AISLE_WARM_UP", "0")
    monkeypatch.setenv("AISLE_RASA_URL", "http://rasa:5005/")
    monkeypatch.setenv("AISLE_QDRANT_API_KEY", "")  # empty counts as unset
    settings = get_settings()
    assert settings.catalog_path == ROOT / "shops/mine.jsonl"
    assert settings.gateway_port == 9090
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.warm_up is False
    assert settings.rasa_url == "http://rasa:5005"
    assert settings.qdrant_api_key is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [("AISLE_RATE_WINDOW", "soon"), ("AISLE_STORE", "sqlite"), ("AISLE_GATEWAY_PORT", "0"),
     ("AISLE_ENCODER_BACKEND", "gpu"), ("AISLE_WARM_UP", "maybe")],
)
def test_a_bad_value_is_refused_with_the_variable_name(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        get_settings()


@pytest.mark.parametrize(
    "argv",
    [["-m", "bot", "serve"], ["-m", "recommender", "search", "boots"], ["-m", "shop", "init"],
     ["-m", "learning", "status"], ["-c", "import actions"]],
)
def test_every_process_stops_at_start_up_on_a_bad_value(argv: list[str]) -> None:
    env = {"PATH": "/usr/bin:/bin", "AISLE_RATE_WINDOW": "soon"}
    done = subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0
    assert "AISLE_RATE_WINDOW" in done.stderr


def test_settings_never_write_the_environment() -> None:
    writes = []
    for path in sorted(Path(ROOT).glob("[!.]*/**/*.py")):
        if path.parts[len(ROOT.parts)] in ("tests", "tools") or ".venv" in str(path):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Attribute) and node.attr in ("setdefault", "update", "pop")
                    and isinstance(node.value, ast.Attribute) and node.value.attr == "environ"):
                writes.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)
                    and isinstance(node.value, ast.Attribute) and node.value.attr == "environ"):
                writes.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert writes == []


def test_aisle_variables_are_read_only_by_the_settings_model() -> None:
    readers = []
    for path in sorted(Path(ROOT).glob("[!.]*/**/*.py")):
        top = path.parts[len(ROOT.parts)]
        if top in ("tests",) or ".venv" in str(path) or path == ROOT / "common/settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("get", "getenv")
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and str(node.args[0].value).startswith("AISLE_")):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert readers == []


def test_the_readme_lists_every_variable_and_no_other() -> None:
    readme = set(re.findall(r"AISLE_[A-Z0-9_]+", (ROOT / "README.md").read_text(encoding="utf-8")))
    # read by the Makefile / deploy/supervisord.conf / endpoints.yml (ports) and by the test suite, not by Settings
    outside = {"AISLE_RASA_PORT", "AISLE_ACTIONS_PORT", "AISLE_TEST_POSTGRES_URL", "AISLE_TEST_REDIS_URL"}
    assert set(variable_names()) - readme == set()
    assert readme - set(variable_names()) - outside == set()


def test_a_production_shop_can_refuse_the_demo_seed() -> None:
    assert get_settings(shop_seed_dir="none").shop_seed_dir is None
    assert get_settings(shop_seed_dir="data/shop").shop_seed_dir == ROOT / "data/shop"
