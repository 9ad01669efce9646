"""Incremental ingest on both backends: skip unchanged, payload-only updates, deletions."""

from __future__ import annotations

import json

from recommender.ingest import ingest
from tests.recommender.conftest import CATALOG


def _rows():
    return [json.loads(line) for line in CATALOG.read_text().splitlines() if line.strip()]


def _write(path, rows, extra_lines=()):
    path.write_text("\n".join([json.dumps(r) for r in rows] + list(extra_lines)) + "\n")


class CountingEncoder:
    """The real encoder, with a count of the texts it embedded."""

    def __init__(self, inner, model_id=None):
        self.inner, self.texts = inner, 0
        self.model_id = model_id or inner.model_id

    def encode_documents(self, texts, **kw):
        self.texts += len(texts)
        return self.inner.encode_documents(texts, **kw)


def test_incremental_ingest(fresh_store, encoder, tmp_path):
    enc = CountingEncoder(encoder)
    rows = _rows()
    path = tmp_path / "catalog.jsonl"
    _write(path, rows)
    first = ingest(path, fresh_store, enc)
    assert (first.added, first.reembedded, first.updated_payload, first.deleted) == (32, 0, 0, 0)
    assert enc.texts == 32

    # a price and a stock change: payload updates, nothing re-embedded
    rows[0]["price"] = 99.0
    rows[1]["stock"] = 0
    # a text change: re-embedded; a removed product: deleted
    rows[2]["description"] += " Now with recycled laces."
    removed = rows.pop(3)["id"]
    _write(path, rows)
    enc.texts = 0
    second = ingest(path, fresh_store, enc)
    assert second.updated_payload == 2 and second.reembedded == 1 and second.deleted == 1
    assert second.added == 0 and second.unchanged == 28 and enc.texts == 1
    assert fresh_store.get([rows[0]["id"]])[0].payload["price"] == 99.0
    assert fresh_store.get([rows[1]["id"]])[0].payload["in_stock"] is False
    assert fresh_store.get([removed]) == [] and fresh_store.count() == 31

    enc.texts = 0
    third = ingest(path, fresh_store, enc)
    assert third.unchanged == 31 and enc.texts == 0


def test_a_new_encoder_re_embeds_everything(fresh_store, encoder, tmp_path):
    path = tmp_path / "catalog.jsonl"
    _write(path, _rows())
    ingest(path, fresh_store, CountingEncoder(encoder))
    promoted = CountingEncoder(encoder, model_id="finetuned-20261125")
    report = ingest(path, fresh_store, promoted)
    assert report.reembedded == 32 and promoted.texts == 32 and report.unchanged == 0


def test_bad_rows_reported_and_nothing_lost(fresh_store, encoder, tmp_path):
    rows = _rows()
    path = tmp_path / "catalog.jsonl"
    _write(path, rows)
    ingest(path, fresh_store, encoder)
    # the last product's row becomes invalid: reported by line, and not deleted from the store
    broken = rows[:-1]
    _write(path, broken, ['{"id": "O04", "title": "Bottle", "price": -3}', "{not json"])
    report = ingest(path, fresh_store, encoder)
    assert [e.line for e in report.errors] == [32, 33]
    assert "price" in report.errors[0].reason
    assert report.deleted == 0 and report.deletions_skipped == 1
    assert fresh_store.count() == 32


def test_catalog_without_valid_rows_is_refused(fresh_store, encoder, tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"title": "no id"}\n')
    import pytest

    with pytest.raises(ValueError, match="no valid product"):
        ingest(path, fresh_store, encoder)


def test_image_vectors_become_a_named_vector(fresh_store, encoder, tmp_path):
    rows = _rows()[:3]
    for i, r in enumerate(rows):
        r["image_vector"] = [1.0 if j == i else 0.0 for j in range(8)]
    path = tmp_path / "img.jsonl"
    _write(path, rows)
    report = ingest(path, fresh_store, encoder)
    assert report.added == 3 and fresh_store.image_dim == 8
