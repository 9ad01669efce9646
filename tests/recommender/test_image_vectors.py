"""Image vectors from a local CLIP model (transformers format): a tiny randomly initialised
model saved to disk, PNG files drawn with PIL, ingested into both store backends, and a
shopper's photo finding its product."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PIL")

from PIL import Image, ImageDraw  # noqa: E402

from recommender.image import ImageEncoder, ImageError, load_image, local_image_path  # noqa: E402
from recommender.ingest import ingest  # noqa: E402
from recommender.query import Constraints, ConversationState  # noqa: E402
from recommender.service import Recommender  # noqa: E402

PROJECTION_DIM = 16


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> Path:
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
                     "num_attention_heads": 4, "vocab_size": 99, "max_position_embeddings": 20},
        vision_config={"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2,
                       "num_attention_heads": 4, "image_size": 32, "patch_size": 8},
        projection_dim=PROJECTION_DIM,
    )
    folder = tmp_path_factory.mktemp("tiny-clip")
    CLIPModel(config).eval().save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def image_encoder(tiny_clip) -> ImageEncoder:
    return ImageEncoder(tiny_clip)


def _draw(path: Path, seed: int, fmt: str = "PNG") -> None:
    """A distinct picture per seed: background colour, a shape and stripes."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (64, 64), tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(image)
    for _ in range(4):
        x0, y0 = (int(v) for v in rng.integers(0, 40, 2))
        draw.rectangle([x0, y0, x0 + 20, y0 + 20], fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw.line([(0, seed * 7 % 64), (63, 63 - seed * 5 % 64)], fill=(255, 255, 255), width=3)
    image.save(path, fmt)


@pytest.fixture
def image_catalog(tmp_path) -> Path:
    """Five products with local PNG/JPEG images (absolute, relative, file://), one with the
    demo shop's SVG URL and one with a web URL (both skipped)."""
    pics = tmp_path / "pics"
    pics.mkdir()
    rows = []
    for i in range(5):
        fmt, suffix = ("JPEG", "jpg") if i == 4 else ("PNG", "png")
        _draw(pics / f"I{i}.{suffix}", seed=i + 1, fmt=fmt)
        url = {0: str(pics / "I0.png"), 1: "pics/I1.png", 2: (pics / "I2.png").as_uri()}.get(
            i, f"pics/I{i}.{suffix}")
        rows.append({"id": f"I{i}", "title": f"Printed tote bag model {i}", "price": 20 + i,
                     "stock": 5, "category": ["Accessories", "Bags"], "colors": ["red" if i % 2 else "blue"],
                     "image_url": url})
    rows.append({"id": "S1", "title": "Printed tote bag svg", "price": 30, "stock": 5,
                 "image_url": "/images/S1.svg"})
    rows.append({"id": "W1", "title": "Printed tote bag web", "price": 30, "stock": 5,
                 "image_url": "https://example.invalid/w1.png"})
    path = tmp_path / "catalog.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_local_image_path_accepts_only_local_rasters(tmp_path):
    _draw(tmp_path / "a.png", 1)
    (tmp_path / "b.svg").write_text("<svg/>")
    assert local_image_path("a.png", [tmp_path]) == tmp_path / "a.png"
    assert local_image_path((tmp_path / "a.png").as_uri(), []) == tmp_path / "a.png"
    assert local_image_path("b.svg", [tmp_path]) is None
    assert local_image_path("missing.png", [tmp_path]) is None
    assert local_image_path("https://example.invalid/a.png", [tmp_path]) is None
    assert local_image_path(None, [tmp_path]) is None


def test_load_image_rejects_non_raster(tmp_path):
    (tmp_path / "fake.png").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    with pytest.raises(ImageError):
        load_image(tmp_path / "fake.png")
    _draw(tmp_path / "x.png", 3)
    assert load_image((tmp_path / "x.png").read_bytes()).mode == "RGB"


def test_image_encoder_vectors(image_encoder, tmp_path):
    for i in range(2):
        _draw(tmp_path / f"{i}.png", i + 1)
    vectors = image_encoder.encode_images([tmp_path / "0.png", tmp_path / "1.png"])
    assert vectors.shape == (2, PROJECTION_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) < 0.9999  # different pictures, different vectors
    again = image_encoder.encode_image((tmp_path / "0.png").read_bytes())
    assert np.allclose(again, vectors[0], atol=1e-5)


def test_ingest_embeds_local_images_and_search_by_image(fresh_store, encoder, image_encoder,
                                                        image_catalog):
    report = ingest(image_catalog, fresh_store, encoder, image_encoder=image_encoder)
    assert report.added == 7 and report.images_embedded == 5 and report.images_skipped == 2
    assert fresh_store.image_dim == PROJECTION_DIM

    rec = Recommender(fresh_store, encoder, image_encoder=image_encoder)
    pics = image_catalog.parent / "pics"
    for i, name in enumerate(["I0.png", "I1.png", "I2.png", "I3.png", "I4.jpg"]):
        result = rec.recommend(ConversationState(), k=3, image=pics / name)
        ids = [s.id for s in result.suggestions]
        assert ids[0] == f"I{i}", ids
        assert not {"S1", "W1"} & set(ids)  # no image vector: never an image match

    # the conversation's filter still applies: blue ones only (I0, I2, I4)
    blue = ConversationState(constraints=Constraints(colors=["blue"]))
    ids = [s.id for s in rec.recommend(blue, k=3, image=pics / "I2.png").suggestions]
    assert ids[0] == "I2" and set(ids) <= {"I0", "I2", "I4"}
    # the photo leads even when the shopper's words name another product
    named = ConversationState(user_turns=["printed tote bag model 0"])
    assert rec.recommend(named, k=3, image=pics / "I2.png").suggestions[0].id == "I2"

    # unchanged catalog and files: nothing re-embedded; a changed picture re-embeds that product
    assert ingest(image_catalog, fresh_store, encoder, image_encoder=image_encoder).unchanged == 7
    _draw(pics / "I3.png", seed=99)
    again = ingest(image_catalog, fresh_store, encoder, image_encoder=image_encoder)
    assert again.reembedded == 1 and again.images_embedded == 1
    assert [s.id for s in rec.recommend(ConversationState(), k=1, image=pics / "I3.png").suggestions] == ["I3"]


def test_search_by_image_without_image_model_is_a_clear_error(fresh_store, encoder, image_catalog):
    ingest(image_catalog, fresh_store, encoder)
    rec = Recommender(fresh_store, encoder)
    with pytest.raises(ValueError, match="AISLE_IMAGE_MODEL"):
        rec.recommend(ConversationState(), image=image_catalog.parent / "pics" / "I0.png")
