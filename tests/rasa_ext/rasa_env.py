"""Run a script in Rasa's own environment (Python 3.10), from the project folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from common.settings import ROOT
from tools.stack import RASA_BIN

RASA_PYTHON = RASA_BIN.parent / "python"


def run_in_rasa(script: str, tmp_path: Path) -> None:
    """Run ``script`` (given ``tmp_path/trackers.db`` as argv[1]); it must print "ok" last."""
    if not RASA_PYTHON.exists():
        pytest.skip("Rasa's environment is not installed (make setup)")
    result = subprocess.run([str(RASA_PYTHON), "-c", script, str(tmp_path / "trackers.db")], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]
