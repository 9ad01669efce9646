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
         "--base-limit", "200", "--ingest-scale", "150", "--skip-local", "--skip-onnx", "--index-options",
         "--update-feed", "60", "--json"],
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
    # the other dense-index options, on the same vectors
    options = ingest["index_options"]
    assert [(o["m"], o["ef_construct"], o["quantization"]) for o in options] == [
        (16, 64, "none"), (8, 100, "none"), (16, 100, "int8")]
    assert all(o["index_s"] >= 0 and 0 < o["recall@10"] <= 1 and o["search_p50_ms"] > 0 for o in options)
    # a feed applied while the store is served: every line updates, the server answers throughout
    update = ingest["update"]
    assert update["updates"] == update["updated"] == 60 and update["errors"] == 0
    assert update["searches_during"] > 0 and update["switched_after_s"] is not None
    assert "searches answered during it" in done.stdout
    assert results["peak_rss_mb"] > 0
