"""``python -m shop init|reset`` and its old name ``python -m recommender.shop`` (outside scripts
reset the demo shop with it) on a fresh SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from common.settings import ROOT


@pytest.mark.parametrize("module", ["shop", "recommender.shop"])
def test_reset_seeds_the_demo_shop(tmp_path, module: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "AISLE_SHOP_DB_URL": f"sqlite:///{tmp_path / 'shop.db'}"}
    done = subprocess.run([sys.executable, "-m", module, "reset"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    seeded = json.loads(done.stdout.strip().splitlines()[-1])["seeded"]
    assert seeded["customers"] > 0 and seeded["orders"] > 0
