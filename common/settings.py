"""Every ``AISLE_*`` variable, in one typed and validated settings model.

Each process (gateway, action server, command lines) builds it once at start-up with
:func:`get_settings`; a bad value stops it there with the variable's name
(:class:`SettingsError`). Empty values count as unset. Relative paths resolve against the
project root. Nothing here writes to ``os.environ``. The README's configuration table lists
the same variables (a test compares them).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, ClassVar, Literal

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, field: str | None = None) -> AliasChoices:
    """Read ``AISLE_<name>``; keyword arguments may use the field's own name too."""
    return AliasChoices(*(n for n in (field, f"AISLE_{name}") if n))


class SettingsError(ValueError):
    """A setting has a value its type does not accept; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AISLE_", env_ignore_empty=True, frozen=True, populate_by_name=True, extra="ignore"
    )

    # -- generated state and data -------------------------------------------------------------
    var_dir: Path = ROOT / "var"
    catalog_path: Path = Field(ROOT / "data/catalog/products.jsonl", validation_alias=_env("CATALOG", "catalog_path"))

    # -- vector store: "edge" (embedded Qdrant Edge), "server" (Qdrant server), "memory" (tests)
    store_backend: Literal["edge", "server", "memory"] = Field("edge", validation_alias=_env("STORE", "store_backend"))
    store_path: Path = ROOT / "var/store"
    qdrant_url: str = "http://localhost:6333"
    qdrant_api_key: str | None = None
    collection: str = "products"
    # each new Qdrant server collection: shards, copies of each shard, copies that confirm a write
    # (docs/architecture.md §2.6; `collection` is the alias that serving processes follow there)
    qdrant_shards: int = Field(1, ge=1)
    qdrant_replicas: int = Field(1, ge=1)
    qdrant_write_consistency: int = Field(1, ge=1)

    # dense index of each new store (Edge and server): HNSW m / ef_construct, "int8" scalar
    # quantization or "none" (recommender.store.base.IndexOptions)
    hnsw_m: int = Field(16, ge=4, le=64)
    hnsw_ef_construct: int = Field(100, ge=8, le=1000)
    quantization: Literal["none", "int8"] = "none"

    # -- encoder: a model folder, or empty for the newest under encoder_dir, else the base model
    encoder_path: str = Field("", validation_alias=_env("ENCODER", "encoder_path"))
    encoder_dir: Path = ROOT / "models/encoder"
    # "auto": ONNX int8 where `check-onnx` recorded |ΔnDCG@10| ≤ onnx_max_ndcg_delta versus
    # fp32 on at least onnx_min_queries judged queries; otherwise torch fp32
    encoder_backend: Literal["auto", "torch", "onnx"] = "auto"
    onnx_max_ndcg_delta: float = 0.01
    onnx_min_queries: int = Field(20, ge=1)
    query_cache_size: int = Field(2048, ge=0, validation_alias=_env("QUERY_CACHE", "query_cache_size"))
    # image vectors: a CLIP model (transformers format) in a local folder; relative image paths
    # resolve against image_dir (empty: the catalog file's folder)
    image_model_path: str = Field("", validation_alias=_env("IMAGE_MODEL", "image_model_path"))
    image_dir: str = ""

    # -- customer service -----------------------------------------------------------------------
    shop_db_url: str = f"sqlite:///{ROOT / 'var/shop.db'}"
    # "none": a production shop gets no demo customers and orders
    shop_seed_dir: Path | None = Field(ROOT / "data/shop", validation_alias=_env("SHOP_SEED", "shop_seed_dir"))
    faq_path: Path = Field(ROOT / "data/faq/faq.yml", validation_alias=_env("FAQ", "faq_path"))
    link_secret: str = ""  # signs document links (invoices, labels); empty: var/link-secret
    shop_locale: str = "en_GB"  # how dates read to shoppers ("Friday 4 December"); a CLDR locale

    # -- gateway --------------------------------------------------------------------------------
    gateway_host: str = "127.0.0.1"
    gateway_port: int = Field(8080, ge=1, le=65535)
    gateway_db_url: str = f"sqlite:///{ROOT / 'var/gateway.db'}"
    # one Rasa, or several replicas (comma-separated) sharing the SQL tracker and Redis lock store
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_token: str = ""
    actions_url: str = "http://127.0.0.1:5055"
    rasa_timeout: float = Field(2.5, gt=0)  # below the 3 s answer budget (docs/architecture.md §5)
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    max_message_chars: int = Field(1000, ge=1)
    rate_conversation: int = Field(30, ge=1)
    rate_client: int = Field(300, ge=1)
    rate_login: int = Field(10, ge=1)
    rate_window: float = Field(60.0, gt=0)
    warm_up: bool = True
    trust_proxy: bool = False
    # Redis for several gateway replicas: websocket events and rate limits shared (empty: in process)
    redis_url: str = ""
    desk_session_hours: float = Field(12.0, gt=0)
    desk_canned_path: Path = Field(ROOT / "data/desk/canned.yml", validation_alias=_env("DESK_CANNED", "desk_canned_path"))

    # -- learning loop ----------------------------------------------------------------------------
    training_dir: Path = ROOT / "var/training"
    reviewed_dir: Path = ROOT / "data/nlu/reviewed"
    rasa_model: Path = ROOT / "models/aisle.tar.gz"
    rasa_bin: str = ""  # empty: .venv-rasa/bin/rasa, else `rasa` on PATH

    # request bodies larger than this are refused before parsing (413); not a variable
    max_body_bytes: ClassVar[int] = 64 * 1024

    @field_validator(
        "var_dir", "catalog_path", "store_path", "encoder_dir", "faq_path",
        "training_dir", "reviewed_dir", "rasa_model", "desk_canned_path",
    )
    @classmethod
    def _from_root(cls, value: Path) -> Path:
        return value if value.is_absolute() else ROOT / value

    @field_validator("shop_seed_dir", mode="before")
    @classmethod
    def _seed_or_none(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() == "none":
            return None
        return value if value is None else cls._from_root(Path(value))

    @field_validator("encoder_path", "image_model_path", "image_dir", "rasa_bin", mode="before")
    @classmethod
    def _path_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, Path) else value

    @field_validator("rasa_url", "actions_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return ",".join(url.strip().rstrip("/") for url in value.split(",") if url.strip())

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("a Redis URL starts with redis://, rediss:// or unix://")
        return value

    @field_validator("qdrant_write_consistency")
    @classmethod
    def _within_replicas(cls, value: int, info: ValidationInfo) -> int:
        replicas = info.data.get("qdrant_replicas")
        if replicas is not None and value > replicas:
            raise ValueError(f"must be at most AISLE_QDRANT_REPLICAS ({replicas}): a write cannot "
                             "be confirmed by more copies than a shard has")
        return value

    @field_validator("shop_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(value)
        except (UnknownLocaleError, ValueError, TypeError):
            raise ValueError(f"unknown locale {value!r} (examples: en_GB, en_US, de_DE)") from None
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(o.strip().rstrip("/") for o in value.split(",") if o.strip())
        return value


def _variable(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    choices = alias.choices if isinstance(alias, AliasChoices) else []
    return next((c for c in choices if isinstance(c, str) and c.startswith("AISLE_")),
                f"AISLE_{field.upper()}")


def variable_names() -> list[str]:
    """The environment variables :class:`Settings` reads, in declaration order."""
    return [_variable(field) for field in Settings.model_fields]


def _name(loc: object) -> str:
    """The variable behind a validation error's location (a field name or an alias)."""
    loc = str(loc)
    return _variable(loc) if loc in Settings.model_fields else loc


def get_settings(**overrides: object) -> Settings:
    """Read the settings from the environment (cheap); ``overrides`` replace single fields."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{_name(err['loc'][0])}: {err['msg']}" for err in exc.errors())
        raise SettingsError(f"invalid setting: {problems}") from None


def settings_or_exit() -> Settings:
    """:func:`get_settings` for a process's start-up: a bad value ends it with exit code 2
    and one line naming the variable, instead of a traceback."""
    try:
        return get_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
