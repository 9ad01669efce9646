"""House rules a green suite must keep: nothing generated is tracked, CI calls the README command."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ("models/", "var/", ".rasa/", ".venv/", ".venv-rasa/", "__pycache__/", "results/")


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def test_nothing_generated_is_tracked() -> None:
    offenders = [f for f in tracked_files() if any(part in f"{f}/" for part in GENERATED)]
    assert offenders == []
    assert "data/catalog/products.jsonl" not in tracked_files()


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (ROOT / ".ci/run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme


def test_every_make_target_in_the_readme_exists() -> None:
    import re

    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z-]*):", makefile, re.M))
    used = set(re.findall(r"make ([a-z][a-z-]*)", (ROOT / "README.md").read_text()))
    assert used <= targets, f"README mentions missing targets: {used - targets}"
