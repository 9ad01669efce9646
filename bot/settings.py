"""Gateway settings: one typed object read from the environment.

| variable | default | meaning |
| --- | --- | --- |
| `AISLE_GATEWAY_HOST` | `127.0.0.1` | address the gateway listens on |
| `AISLE_GATEWAY_PORT` | `8080` | port the gateway listens on |
| `AISLE_RASA_URL` | `http://127.0.0.1:5005` | Rasa server (REST channel + HTTP API), loopback |
| `AISLE_RASA_TOKEN` | *(empty)* | Rasa's `--auth-token`, sent as `?token=` to the HTTP API |
| `AISLE_ACTIONS_URL` | `http://127.0.0.1:5055` | action server, only for `GET /health` |
| `AISLE_RASA_TIMEOUT` | `4` | seconds to wait for Rasa before the shopper gets a polite fallback reply |
| `AISLE_GATEWAY_DB_URL` | `sqlite:///var/gateway.db` | SQLAlchemy URL of the gateway store (PostgreSQL: `postgresql+psycopg2://…`) |
| `AISLE_CORS_ORIGINS` | *(empty)* | comma-separated origins allowed to embed the widget (`https://shop.example`) |
| `AISLE_MAX_MESSAGE_CHARS` | `1000` | longest shopper message accepted (longer → 413) |
| `AISLE_RATE_CONVERSATION` | `30` | shopper messages per window and conversation |
| `AISLE_RATE_CLIENT` | `300` | API requests per window and client address |
| `AISLE_RATE_LOGIN` | `10` | desk login attempts per window and client address |
| `AISLE_RATE_WINDOW` | `60` | rate-limit window in seconds |
| `AISLE_WARM_UP` | `1` | `1`: send one search turn through Rasa at start so models load before the first shopper |
| `AISLE_TRUST_PROXY` | `0` | `1`: take the client address from `X-Forwarded-For` (only behind your own proxy) |
| `AISLE_DESK_SESSION_HOURS` | `12` | lifetime of an agent's desk session |
| `AISLE_CATALOG` | `data/catalog/products.jsonl` | catalog for the storefront page and product images (from `recommender.settings`) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from recommender.settings import ROOT, get_settings


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _origins() -> tuple[str, ...]:
    raw = _env("AISLE_CORS_ORIGINS", "")
    return tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())


@dataclass(frozen=True)
class GatewaySettings:
    """Configuration of the gateway (see the module docstring for the variable table)."""

    host: str = field(default_factory=lambda: _env("AISLE_GATEWAY_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: _int("AISLE_GATEWAY_PORT", 8080))
    rasa_url: str = field(default_factory=lambda: _env("AISLE_RASA_URL", "http://127.0.0.1:5005").rstrip("/"))
    rasa_token: str = field(default_factory=lambda: _env("AISLE_RASA_TOKEN", ""))
    actions_url: str = field(
        default_factory=lambda: _env("AISLE_ACTIONS_URL", "http://127.0.0.1:5055").rstrip("/")
    )
    rasa_timeout: float = field(default_factory=lambda: _float("AISLE_RASA_TIMEOUT", 4.0))
    db_url: str = field(
        default_factory=lambda: _env("AISLE_GATEWAY_DB_URL", f"sqlite:///{ROOT / 'var/gateway.db'}")
    )
    cors_origins: tuple[str, ...] = field(default_factory=_origins)
    max_message_chars: int = field(default_factory=lambda: _int("AISLE_MAX_MESSAGE_CHARS", 1000))
    rate_conversation: int = field(default_factory=lambda: _int("AISLE_RATE_CONVERSATION", 30))
    rate_client: int = field(default_factory=lambda: _int("AISLE_RATE_CLIENT", 300))
    rate_login: int = field(default_factory=lambda: _int("AISLE_RATE_LOGIN", 10))
    rate_window: float = field(default_factory=lambda: _float("AISLE_RATE_WINDOW", 60.0))
    trust_proxy: bool = field(default_factory=lambda: _env("AISLE_TRUST_PROXY", "0") == "1")
    warm_up: bool = field(default_factory=lambda: _env("AISLE_WARM_UP", "1") == "1")
    desk_session_hours: float = field(default_factory=lambda: _float("AISLE_DESK_SESSION_HOURS", 12.0))
    catalog_path: Path = field(default_factory=lambda: get_settings().catalog_path)
    # request bodies larger than this are refused before parsing (413)
    max_body_bytes: int = 64 * 1024


def get_gateway_settings() -> GatewaySettings:
    return GatewaySettings()
