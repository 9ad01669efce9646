"""Resumable ingest (issue #19): `python -m recommender ingest` killed with SIGKILL after its first
batches were stored, then run again, embeds only the products it had not stored, and ends with
the store a clean ingest builds; a publish that fails half-way continues in its own store and
never touches the served one."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import qdrant_edge as qe

from recommender.ingest import ingest
from recommender.store.edge import EdgeStore

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS = 1200
BATCH = 50
STORED = re.compile(r"ingest: ([\d,]+) of ([\d,]+) embedded and stored")


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false", "AISLE_VAR_DIR": str(tmp_path / "var"),
            "AISLE_STORE": "edge", "AISLE_STORE_PATH": str(tmp_path / "store"),
            "AISLE_ENCODER_DIR": str(tmp_path / "no-models"), "AISLE_ENCODER": "",
            "AISLE_ENCODER_BACKEND": "torch", "AISLE_IMAGE_MODEL": ""}


def _contents(store: EdgeStore) -> dict[str, tuple[dict, np.ndarray, tuple]]:
    """product id → (payload, dense vector, sparse vector) of every stored point."""
    out, offset = {}, None
    while True:
        records, offset = store.shard.scroll(qe.ScrollRequest(
            offset=offset, limit=500, with_payload=True, with_vector=True))
        for r in records:
            sparse = r.vector["keywords"]
            out[r.payload["id"]] = (r.payload, np.asarray(r.vector["text"], np.float32),
                                    (list(sparse.indices), [round(v, 6) for v in sparse.values]))
        if offset is None:
            return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("catalog") / "products.jsonl"
    subprocess.run([sys.executable, "-m", "tools.generate_catalog", "--scale", str(PRODUCTS),
                    "--output", str(path), "--no-validate"], cwd=ROOT, check=True, capture_output=True)
    return path


@pytest.mark.slow
def test_a_killed_ingest_continues_where_it_stopped(generated, encoder, tmp_path):
    env = _env(tmp_path)
    command = [sys.executable, "-m", "recommender", "ingest", str(generated), "--batch-size",
               str(BATCH), "--progress-every", "0", "--workers", "1"]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    seen, lines = 0, []
    for line in proc.stderr:  # one line per stored batch; kill once a few are in
        lines.append(line)
        match = STORED.search(line)
        if match and int(match.group(1).replace(",", "")) >= 3 * BATCH:
            seen = int(match.group(1).replace(",", ""))
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "".join(lines)[-2000:]
    assert 0 < seen < PRODUCTS

    done = subprocess.run([*command, "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    # what the killed run stored is not embedded again; everything else is, once
    assert report["unchanged"] >= seen and report["reembedded"] == 0 and not report["errors"]
    assert report["added"] + report["unchanged"] == PRODUCTS
    assert f"{report['added']:,} to embed" in done.stderr

    with EdgeStore(tmp_path / "clean") as clean:
        ingest(generated, clean, encoder, workers=0)
        expected = _contents(clean)
    with EdgeStore(tmp_path / "store") as resumed:
        got = _contents(resumed)
    assert got.keys() == expected.keys() and len(got) == PRODUCTS
    for pid, (payload, dense, sparse) in expected.items():
        assert got[pid][0] == payload, pid
        assert np.allclose(got[pid][1], dense, atol=1e-5), pid
        assert got[pid][2] == sparse, pid
