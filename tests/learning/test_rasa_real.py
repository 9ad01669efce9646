"""The Rasa side of a retraining round with real Rasa processes, on the tiny project of
``tiny_rasa.py``: a current model (DIET 40 epochs, trained before the examples were reviewed) and
a candidate the round trains itself on the project's data plus the reviewed training split, with a
deliberately worse configuration (DIET 1 epoch). The metrics come from the ``intent_report.json``
and ``story_report.json`` Rasa writes; the worse candidate is refused and the current model
stays in place. About two minutes on 2 cores: two trainings and four ``rasa test`` runs."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from learning.promotion import rasa_history
from learning.rasa_round import (
    Rasa,
    RoundOptions,
    rasa_bin,
    run_round,
    split_reviewed,
)
from tests.learning.tiny_rasa import CONFIG, write_project

pytestmark = pytest.mark.slow


def test_a_worse_rasa_candidate_is_refused_on_real_rasa_metrics(tmp_path):
    if not rasa_bin().exists():
        pytest.skip(f"no Rasa at {rasa_bin()} (make setup)")
    project = write_project(tmp_path / "project", epochs=40)
    rasa = Rasa(cwd=project)  # Rasa's training cache goes to the project's .rasa/, not the repository's

    # the current model, trained before the examples were reviewed (their file is newer)
    current = rasa.train(project / "config.yml", project / "domain.yml",
                         [project / "data/nlu/base.yml", project / "data/stories", project / "data/rules"],
                         tmp_path / "models", "aisle", tmp_path / "current-train.log")
    os.utime(project / "data/nlu/reviewed/reviewed.yml")
    digest = hashlib.sha256(current.read_bytes()).hexdigest()
    (tmp_path / "worse.yml").write_text(CONFIG.format(epochs=1))

    result = run_round(RoundOptions(
        flag=None, config=tmp_path / "worse.yml", domain=project / "domain.yml",
        stories=project / "tests/test_stories.yml", min_heldout=5, reload=False, active=current,
        reviewed_dir=project / "data/nlu/reviewed", work_dir=tmp_path / "candidates", project=project),
        "tiny", rasa)

    assert result.retrained and result.error is None, result.error
    assert "reviewed examples, changed after the current model was trained" in result.why
    split = split_reviewed(project / "data/nlu/reviewed")
    assert result.data["NLU test examples"] == split.n_heldout >= 5
    for side in (result.current, result.candidate):
        assert isinstance(side["nlu/macro_f1"], float) and 0.0 <= side["nlu/macro_f1"] <= 1.0
        assert side["nlu/examples"] == split.n_heldout
        assert side["stories/total"] == 10 and 0.0 <= side["stories/accuracy"] <= 1.0
    assert result.current["nlu/macro_f1"] > result.candidate["nlu/macro_f1"] + 0.01

    assert not result.decision.promote and not result.promoted
    assert "worse than the current model on nlu/macro_f1" in result.decision.reason
    assert hashlib.sha256(current.read_bytes()).hexdigest() == digest and rasa_history(current) == []
    candidate = Path(result.candidate_model)
    assert candidate == tmp_path / "candidates/tiny.tar.gz" and candidate.exists()
    assert (tmp_path / "candidates/tiny/results/candidate/nlu/intent_report.json").exists()
