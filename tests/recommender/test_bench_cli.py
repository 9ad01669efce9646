"""`python -m recommender bench` at toy sizes: the benchmark runs end to end and reports every
figure it promises (it is run by hand with `make bench`; this keeps it from rotting)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_bench_reports_every_figure(tmp_path):
    env = {**os.environ, "AISLE_ENCODER_DIR": str(tmp_path / "no-models"), "PYTHONPATH": str(ROOT),
           "AISLE_VAR_DIR": str(tmp_path / "var"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "recommender", "bench", "--scales", "1500", "--queries", "20",
         "--base-limit", "200", "--ingest-scale", "150", "--skip-local", "--skip-onnx", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["cores"] == os.cpu_count()
    scale = results["1500"]
    for key in ("edge_unfiltered", "edge_filtered", "edge_hybrid_filtered", "numpy_filtered"):
        p50, p95 = scale[key]
        assert 0 < p50 <= p95, key
    assert scale["edge_first_query_ms"] > 0
    ingest = results["ingest"]
    assert ingest["products"] == ingest["added"] == 150 and ingest["backend"] == "torch"
    # the pipeline against its parts, measured on the same catalog in the same run
    for key in ("encode_s", "index_s", "upsert_s", "index_build_s", "seconds", "cpu_s"):
        assert ingest[key] >= 0, key
    assert ingest["floor_s"] == round(ingest["encode_s"] + ingest["index_s"], 1)
    assert ingest["ratio"] > 0 and 0 < ingest["recall@10"] <= 1 and 0 < ingest["recall@10_filtered"] <= 1
    assert "encoding alone" in done.stdout and "storing and indexing those vectors alone" in done.stdout
    assert "100,000: " in done.stdout and "extrapolated" in done.stdout
    assert results["peak_rss_mb"] > 0
