"""`make smoke` against a real running assistant (action server, Rasa, gateway), and against none."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tools.stack import PYTHON, ROOT, Gateway, RasaStack, free_port, start_gateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway(rasa_stack: RasaStack) -> Iterator[Gateway]:
    gw = start_gateway(rasa_stack, AISLE_RASA_TIMEOUT="30")
    yield gw
    gw.stop()


def smoke(url: str, wait: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PYTHON), "-m", "tools.smoke", "--url", url, "--wait", wait],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )


def test_smoke_passes_against_the_running_assistant(gateway: Gateway) -> None:
    result = smoke(gateway.url, "180")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "show me running shoes" in result.stdout and "products" in result.stdout.lower()


def test_smoke_fails_clearly_when_nothing_runs() -> None:
    result = smoke(f"http://127.0.0.1:{free_port()}", "0")
    assert result.returncode == 1
    assert "FAIL" in result.stderr
