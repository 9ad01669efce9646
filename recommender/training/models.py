"""Model folders: the active encoder is the newest folder under ``models/encoder`` (see
:func:`recommender.encoder.resolve_model_path`); promotion adds a folder, rollback moves the
newest aside into ``models/encoder-retired/``. Earlier folders stay, so every rollback lands on
the previous model (and finally on the base model)."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from recommender.encoder import _has_model, resolve_model_path
from recommender.settings import Settings, get_settings


def active_encoder(settings: Settings | None = None) -> Path:
    return resolve_model_path(settings or get_settings())


def encoder_folders(settings: Settings | None = None) -> list[Path]:
    """Promoted encoder folders, oldest first (the last one is active)."""
    settings = settings or get_settings()
    if not settings.encoder_dir.is_dir():
        return []
    folders = [p for p in settings.encoder_dir.iterdir() if p.is_dir() and _has_model(p)]
    return sorted(folders, key=lambda p: (p.stat().st_mtime, p.name))


def retired_dir(settings: Settings) -> Path:
    return settings.encoder_dir.parent / f"{settings.encoder_dir.name}-retired"


def _log(settings: Settings, record: dict) -> None:
    path = settings.encoder_dir.parent / f"{settings.encoder_dir.name}-history.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"time": datetime.now(UTC).isoformat(timespec="seconds"), **record}) + "\n")


def promote_encoder(candidate: Path, settings: Settings | None = None) -> Path:
    """Move ``candidate`` into the encoder folder as the newest model; return its new path."""
    settings = settings or get_settings()
    settings.encoder_dir.mkdir(parents=True, exist_ok=True)
    target = settings.encoder_dir / candidate.name
    n = 1
    while target.exists():
        n += 1
        target = settings.encoder_dir / f"{candidate.name}-{n}"
    staging = settings.encoder_dir.parent / f".{settings.encoder_dir.name}-{target.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(candidate, staging)
    newest = max((p.stat().st_mtime for p in encoder_folders(settings)), default=0.0)
    stamp = max(time.time(), newest + 1)
    os.utime(staging, (stamp, stamp))  # newest wins in resolve_model_path
    staging.rename(target)
    os.utime(target, (stamp, stamp))
    _log(settings, {"action": "promote", "model": target.name, "from": str(candidate)})
    return target


def rollback_encoder(settings: Settings | None = None) -> tuple[Path | None, Path]:
    """Retire the newest promoted encoder; return (retired folder or None, now active model)."""
    settings = settings or get_settings()
    folders = encoder_folders(settings)
    if not folders:
        return None, active_encoder(settings)
    newest = folders[-1]
    retired = retired_dir(settings)
    retired.mkdir(parents=True, exist_ok=True)
    target = retired / newest.name
    if target.exists():
        target = retired / f"{newest.name}-{int(time.time())}"
    newest.rename(target)
    active = active_encoder(settings)
    _log(settings, {"action": "rollback", "retired": newest.name, "active": active.name})
    return target, active
