"""Fixtures shared by every suite: the real Rasa + action-server processes, and service URLs."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tools.stack import RasaStack, start_rasa_stack


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    """Real action server and Rasa server on free ports, with private copies of the state."""
    stack = start_rasa_stack(tmp_path_factory.mktemp("rasa-stack"))
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("AISLE_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("AISLE_TEST_POSTGRES_URL is not set (.ci/run sets it): PostgreSQL tests skipped")
    return url


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("AISLE_TEST_REDIS_URL")
    if not url:
        pytest.skip("AISLE_TEST_REDIS_URL is not set (.ci/run sets it): Redis tests skipped")
    return url
