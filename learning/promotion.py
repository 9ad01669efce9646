"""Model folders: the active encoder is the newest folder under ``models/encoder`` (see
:func:`recommender.encoder.resolve_model_path`); promotion adds a folder, rollback moves the
newest aside into ``models/encoder-retired/``. Earlier folders stay, so every rollback lands on
the previous model (and finally on the base model).

Both publish the model that becomes active (:func:`recommender.active.publish`): its vectors go into
a new store and the pointer a running action server follows is switched to it. A failed publish
undoes the move, so the newest folder and the served pair never disagree."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from common.settings import ROOT, Settings, get_settings
from recommender.active import publish as publish_model
from recommender.encoder import _has_model, resolve_model_path

log = logging.getLogger(__name__)


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


def record_onnx_quality(model: Path, settings: Settings) -> None:
    """With ``AISLE_ENCODER_BACKEND=auto``, measure the model's ONNX int8 export against fp32 on
    ``data/eval`` (``check-onnx``) before it is served, so it is served with int8 only where its
    ranking holds. A failed check is logged and the model is served with torch."""
    if settings.encoder_backend.lower() != "auto":
        return
    from recommender.evaluate import check_onnx

    try:
        record = check_onnx(settings.catalog_path, ROOT / "data/eval/queries.tsv", ROOT / "data/eval/qrels.tsv",
                            model_path=model, settings=settings)
        log.info("ONNX check of %s: %s (%s)", model.name, record["auto_backend"], record["reason"])
    except Exception as exc:  # noqa: BLE001 - the model is still served, with torch
        log.warning("ONNX check of %s failed, it will be served with torch: %s", model.name, exc)


def promote_encoder(candidate: Path, settings: Settings | None = None, publish: bool = True) -> Path:
    """Copy ``candidate`` into the encoder folder as the newest model and publish it (unless
    ``publish`` is false); return its new path."""
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
    if publish:
        record_onnx_quality(target, settings)
        try:
            publish_model(target, settings)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)  # not promoted: the served model stays active
            raise
    _log(settings, {"action": "promote", "model": target.name, "from": str(candidate)})
    return target


def rollback_encoder(settings: Settings | None = None, publish: bool = True
                     ) -> tuple[Path | None, Path]:
    """Retire the newest promoted encoder and publish the one now active (unless ``publish`` is
    false); return (retired folder or None, now active model)."""
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
    if publish:
        try:
            publish_model(active, settings)
        except BaseException:
            target.rename(newest)  # still serving the newest: keep it active
            raise
    _log(settings, {"action": "rollback", "retired": newest.name, "active": active.name})
    return target, active


# ---------------------------------------------------------------- the Rasa model
# Rasa serves one file, models/aisle.tar.gz (Makefile, deploy/supervisord.conf; AISLE_RASA_MODEL overrides it).
# Promotion keeps the file it replaces in models/rasa-history/ and swaps the candidate in with an
# atomic rename; rollback renames the newest kept file back into place and keeps the replaced one
# in models/rasa-retired/. Every step is logged to models/rasa-history.jsonl.

def rasa_model_path() -> Path:
    return get_settings().rasa_model


def rasa_history(active: Path | None = None) -> list[Path]:
    """Kept previous Rasa models, oldest first (the last one is what rollback restores)."""
    folder = (active or rasa_model_path()).parent / "rasa-history"
    return sorted(folder.glob("*.tar.gz")) if folder.is_dir() else []


def _rasa_keep(source: Path, folder: Path) -> Path:
    """Copy ``source`` into ``folder`` under a time-ordered name (sorting by name = by time)."""
    folder.mkdir(parents=True, exist_ok=True)
    while True:
        target = folder / f"{datetime.now(UTC):%Y%m%dT%H%M%S.%fZ}.tar.gz"
        if not target.exists():
            break
    partial = folder / f".{target.name}.partial"
    shutil.copy2(source, partial)
    partial.rename(target)
    return target


def _rasa_log(active: Path, record: dict) -> None:
    with (active.parent / "rasa-history.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"time": datetime.now(UTC).isoformat(timespec="seconds"), **record}) + "\n")


def promote_rasa_model(candidate: Path, active: Path | None = None) -> Path | None:
    """Make ``candidate`` the served Rasa model; return where the replaced one was kept."""
    active = active or rasa_model_path()
    active.parent.mkdir(parents=True, exist_ok=True)
    kept = _rasa_keep(active, active.parent / "rasa-history") if active.exists() else None
    staging = active.with_name(f".{active.name}.partial")  # same folder: the rename is atomic
    shutil.copyfile(candidate, staging)  # a fresh file time: make sees it newer than its inputs
    os.replace(staging, active)
    _rasa_log(active, {"action": "promote", "from": str(candidate), "kept": kept.name if kept else None})
    return kept


def rollback_rasa_model(active: Path | None = None) -> tuple[Path | None, Path | None]:
    """Put the newest kept Rasa model back; return (where the replaced one was retired, the file
    restored from the history), or (None, None) when there is nothing to roll back to."""
    active = active or rasa_model_path()
    history = rasa_history(active)
    if not history:
        return None, None
    previous = history[-1]
    retired = _rasa_keep(active, active.parent / "rasa-retired") if active.exists() else None
    os.replace(previous, active)
    os.utime(active)  # newer than the training data, so make does not retrain over the rollback
    _rasa_log(active, {"action": "rollback", "restored": previous.name, "retired": retired.name if retired else None})
    return retired, previous
