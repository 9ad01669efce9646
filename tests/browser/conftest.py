"""Browser-test fixtures: headless Debian chromium via Playwright, and a real gateway process.

The gateway (``python -m bot serve``) talks to the real Rasa + action server of the lead's
``rasa_stack`` fixture. Set ``AISLE_BROWSER_STUB_RASA=1`` to run it against the stub Rasa of
``tests/bot/rasa_stub.py`` instead (development without a trained model).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tools.stack import ROOT, Process, base_env, free_port, start, wait_http

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "tests/artifacts"
AGENT_NAME, AGENT_PASSWORD = "alice", "browser-test-pass"
AGENT_DISPLAY = "Alice Kim"  # what shoppers see


@dataclass
class Gateway:
    url: str
    db_url: str
    process: Process
    backend: str  # "rasa" or "stub"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("Debian's chromium is not installed (`apt-get install -y chromium`; make setup does it)")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _start_stub_rasa(log_dir: Path) -> tuple[Process, str]:
    port = free_port()
    proc = start("rasa-stub", [sys.executable, "-m", "tests.bot.rasa_stub", "--port", str(port),
                               "--token", "stub-token"], base_env(), log_dir)
    url = f"http://127.0.0.1:{port}"
    wait_http(proc, f"{url}/health", timeout=30)
    return proc, url


@pytest.fixture(scope="session")
def rasa_backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[tuple[str, str, str, str]]:
    """(rasa_url, actions_url, token, kind): the real stack, or the stub when asked for."""
    if os.environ.get("AISLE_BROWSER_STUB_RASA") == "1":
        proc, url = _start_stub_rasa(tmp_path_factory.mktemp("rasa-stub"))
        try:
            yield url, url, "stub-token", "stub"
        finally:
            proc.stop()
        return
    stack = request.getfixturevalue("rasa_stack")
    yield stack.rasa_url, stack.actions_url, stack.token, "rasa"


def _stub_catalog(path: Path) -> Path:
    from tests.bot.conftest import CATALOG
    from tests.bot.rasa_stub import JACKET_CATALOG

    path.write_text("\n".join(json.dumps(p) for p in [*CATALOG, *JACKET_CATALOG]) + "\n",
                    encoding="utf-8")
    return path


def _start_gateway(rasa_url: str, actions_url: str, token: str, kind: str, workdir: Path,
                   shop_db_url: str | None = None) -> tuple[Process, str, str]:
    port = free_port()
    db_url = f"sqlite:///{workdir / 'gateway.db'}"
    env = base_env(
        AISLE_GATEWAY_HOST="127.0.0.1", AISLE_GATEWAY_PORT=str(port), AISLE_GATEWAY_DB_URL=db_url,
        AISLE_RASA_URL=rasa_url, AISLE_RASA_TOKEN=token, AISLE_ACTIONS_URL=actions_url,
        AISLE_RASA_TIMEOUT="30",  # the first recommendation turn warms the encoder up
        # every test logs an agent in from this one address: more than the 10 a minute a desk allows
        # (the limit itself is tested in tests/bot)
        AISLE_RATE_LOGIN="1000",
        PYTHONPATH=str(ROOT),
    )
    if kind == "stub":
        env["AISLE_CATALOG"] = str(_stub_catalog(workdir / "products.jsonl"))
        env["AISLE_WARM_UP"] = "false"
        env["AISLE_SHOP_DB_URL"] = f"sqlite:///{workdir / 'shop.db'}"
    elif shop_db_url:  # the desk reads what the action server changed in the shop
        env["AISLE_SHOP_DB_URL"] = shop_db_url
    subprocess.run([sys.executable, "-m", "bot", "create-agent", AGENT_NAME, "--password", AGENT_PASSWORD,
                    "--display-name", AGENT_DISPLAY], cwd=ROOT, env=env, check=True, capture_output=True)
    proc = start("gateway", [sys.executable, "-m", "bot", "serve"], env, workdir)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(proc, f"{url}/health", timeout=60)
    except BaseException:
        proc.stop()
        raise
    return proc, url, db_url


@pytest.fixture(scope="session")
def gateway(request: pytest.FixtureRequest, rasa_backend: tuple[str, str, str, str],
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp("gateway")
    shop = (request.getfixturevalue("rasa_stack").env.get("AISLE_SHOP_DB_URL")
            if rasa_backend[3] == "rasa" else None)
    proc, url, db_url = _start_gateway(*rasa_backend, workdir, shop)
    try:
        yield Gateway(url, db_url, proc, rasa_backend[3])
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def stub_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway in front of the stub Rasa, always: the widget's and the desk's own behaviour
    (queueing, typing, carousels, notes …) in a few seconds, with answers the tests can predict."""
    workdir = tmp_path_factory.mktemp("stub-gateway")
    rasa, rasa_url = _start_stub_rasa(workdir)
    try:
        proc, url, db_url = _start_gateway(rasa_url, rasa_url, "stub-token", "stub", workdir)
        try:
            yield Gateway(url, db_url, proc, "stub")
        finally:
            proc.stop()
    finally:
        rasa.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
