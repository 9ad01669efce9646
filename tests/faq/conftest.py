"""The real encoder (the process-wide one from recommender.encoder), loaded once per test session."""

from __future__ import annotations

import os

import pytest

from recommender.faq import FaqIndex
from recommender.settings import ROOT

FAQ_PATH = ROOT / "data" / "faq" / "faq.yml"


@pytest.fixture(scope="session")
def encoder():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from recommender.encoder import get_encoder

    return get_encoder()


@pytest.fixture(scope="session")
def faq(encoder) -> FaqIndex:
    return FaqIndex.from_file(FAQ_PATH, encoder)
