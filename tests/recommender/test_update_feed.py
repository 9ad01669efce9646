"""Price and stock feeds (`python -m recommender update FEED`, issue #19): payload updates
without re-embedding, bad lines reported by line and skipped, and — for a store that a running
process serves — a copy updated and the pointer switched, so the served store answers
throughout and is never written."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from recommender.ingest import apply_feed, ingest
from tests.recommender.conftest import CATALOG
from tests.recommender.test_ingest import CountingEncoder

ROOT = Path(__file__).resolve().parents[2]


def _feed(path: Path, lines: list) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n"
                            for line in lines))
    return path


def _vector(store, product_id):
    return store.get([product_id], with_vectors=True)[0].text_vector


def test_a_feed_updates_payloads_without_re_embedding(fresh_store, encoder, tmp_path):
    enc = CountingEncoder(encoder)
    ingest(CATALOG, fresh_store, enc)
    before = {pid: _vector(fresh_store, pid) for pid in ("F01", "F02")}
    old_hash = fresh_store.get(["F01"])[0].payload["payload_hash"]
    feed = _feed(tmp_path / "feed.jsonl", [
        {"id": "F01", "price": 99.0},
        {"id": "F02", "stock": 0},
        {"id": "NOPE", "price": 1.0},                 # line 3: unknown id
        "{not json",                                  # line 4
        {"id": "F03", "price": -5},                   # line 5: invalid value
        {"id": "F04", "title": "Renamed boots"},      # line 6: would change the vectors
        {"price": 3.0},                               # line 7: no id
        {"id": "F05", "image_vector": [0.1, 0.2]},    # line 8: a vector, not a payload
        {"id": "F01", "stock": 3},                    # line 9: on top of line 1
        {"id": "F06", "price": fresh_store.get(["F06"])[0].payload["price"]},  # no change
        "",
    ])
    enc.texts = 0
    report = apply_feed(feed, fresh_store)
    assert enc.texts == 0
    assert (report.updated, report.unchanged) == (2, 1)
    assert [e.line for e in report.unknown] == [3] and "NOPE" in report.unknown[0].reason
    assert [e.line for e in report.errors] == [4, 5, 6, 7, 8]
    assert "invalid JSON" in report.errors[0].reason and report.errors[1].reason.startswith("price")
    assert "ingest" in report.errors[2].reason and "id" in report.errors[3].reason
    assert [e.line for e in report.skipped] == [3, 4, 5, 6, 7, 8]

    f01, f02 = fresh_store.get(["F01", "F02"])
    assert f01.payload["price"] == 99.0 and f01.payload["stock"] == 3
    assert f01.payload["payload_hash"] != old_hash
    assert f02.payload["in_stock"] is False and f02.payload["in_stock_flag"] == 0
    assert fresh_store.get(["F03"])[0].payload["price"] > 0
    assert fresh_store.get(["F04"])[0].payload["title"] != "Renamed boots"
    for pid, vector in before.items():
        assert np.array_equal(_vector(fresh_store, pid), vector)
    assert fresh_store.count() == 32

    # the next ingest of the unchanged catalog puts the catalog's values back, payload only
    again = ingest(CATALOG, fresh_store, enc)
    assert (again.updated_payload, again.reembedded, again.added) == (2, 0, 0) and enc.texts == 0
    assert fresh_store.get(["F01"])[0].payload["price"] == 129.0


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "AISLE_VAR_DIR": str(tmp_path / "var"), "AISLE_STORE": "edge",
            "AISLE_STORE_PATH": str(tmp_path / "var/store"), "AISLE_ENCODER_DIR": str(tmp_path / "none"),
            "AISLE_ENCODER_BACKEND": "torch", "AISLE_ENCODER": "", "AISLE_IMAGE_MODEL": "", **extra}


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "recommender", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_update_while_a_process_serves_the_store(encoder, tmp_path, monkeypatch):
    """A serving process holds the Edge store open: `update` copies it, applies the feed to the
    copy and publishes it; the served store is not written, and the serving process, which
    answered all along, switches to the updated copy."""
    from common.settings import get_settings
    from recommender.active import read_pointer
    from recommender.service import Recommender
    from recommender.store.edge import EdgeStore

    env = _env(tmp_path)
    for key in ("AISLE_VAR_DIR", "AISLE_STORE", "AISLE_STORE_PATH", "AISLE_ENCODER_DIR",
                "AISLE_ENCODER_BACKEND"):
        monkeypatch.setenv(key, env[key])
    with EdgeStore(tmp_path / "var/store") as store:
        ingest(CATALOG, store, encoder)
    rec = Recommender.from_settings(get_settings(), interval=0)  # serves var/store, no pointer
    assert rec.published is None and rec.product("F01").price == 129.0

    prices, errors, stop = [], [], threading.Event()

    def shopper() -> None:  # asks all along: the update never leaves it without an answer
        while not stop.is_set():
            try:
                prices.append(rec.product("F01").price)
            except BaseException as exc:  # noqa: BLE001 - asserted below
                errors.append(exc)
                return
            time.sleep(0.01)

    thread = threading.Thread(target=shopper)
    thread.start()
    try:
        feed = _feed(tmp_path / "feed.jsonl", [{"id": "F01", "price": 79.5}, {"id": "X9", "stock": 1}])
        done = _cli(["update", str(feed), "--json"], env)
        assert done.returncode == 0, done.stderr[-2000:]
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert report["updated"] == 1 and report["unknown"] == ["line 2: unknown product id 'X9'"]
        assert "skipped line 2: unknown product id 'X9'" in done.stderr
        pointer = read_pointer(get_settings())
        assert pointer is not None and Path(pointer.store).parent == tmp_path / "var/stores"
        rec.follower.poll()
        rec.follower.join()
        assert rec.published.same_pair(pointer) and rec.product("F01").price == 79.5
    finally:
        stop.set()
        thread.join()
    assert not errors and prices and set(prices) <= {129.0, 79.5}
    rec.store.close()
    with EdgeStore(tmp_path / "var/store") as served:  # released, and still as it was
        assert served.get(["F01"])[0].payload["price"] == 129.0

    # with the pointer, the next feed goes into another copy; the text summary
    started = time.perf_counter()
    done = _cli(["update", str(_feed(tmp_path / "feed2.jsonl", [{"id": "F01", "stock": 0}]))], env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("payload updated 1, unchanged 0, unknown ids 0, errors 0 (")
    assert time.perf_counter() - started < 120
    newer = read_pointer(get_settings())
    assert newer.store != pointer.store
    with EdgeStore(newer.store) as store:
        hit = store.get(["F01"])[0]
        assert hit.payload["price"] == 79.5 and hit.payload["in_stock"] is False
    assert _cli(["update", str(tmp_path / "missing.jsonl")], env).returncode == 2
