"""Image vectors: a CLIP model (Hugging Face ``transformers`` format) from a local folder.

``AISLE_IMAGE_MODEL=/path/to/clip`` turns it on. At ingest each product whose ``image_url``
is a local raster file (PNG or JPEG; a plain path, a ``file://`` URI, or a path relative to
the catalog's folder or ``AISLE_IMAGE_DIR``) is embedded into the ``image`` named vector;
others (the demo shop's ``/images/<id>.svg`` is drawn on demand, web URLs are never fetched)
are skipped and counted. At query time a shopper's image (path, bytes or PIL image) is
embedded the same way. Vectors are L2-normalised float32.

(open_clip is the usual tool, but it needs torchvision, which does not install beside this
project's torch; ``transformers.CLIPModel`` gives the same image tower without it.)
"""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import numpy as np

from common.settings import Settings, get_settings

if TYPE_CHECKING:
    from PIL.Image import Image

RASTER_SUFFIXES = {".png", ".jpg", ".jpeg"}
RASTER_FORMATS = {"PNG", "JPEG"}


class ImageError(ValueError):
    """An image that cannot be used (missing, not PNG/JPEG, unreadable)."""


def local_image_path(image_url: str | None, base_dirs: list[Path]) -> Path | None:
    """The local raster file an ``image_url`` names, or None (web URL, SVG, missing file)."""
    if not image_url:
        return None
    parsed = urlparse(image_url)
    if parsed.scheme == "file":
        candidates = [Path(unquote(parsed.path))]
    elif parsed.scheme and len(parsed.scheme) > 1:  # http(s) and friends: never fetched
        return None
    else:
        path = Path(image_url)
        candidates = [path] if path.is_absolute() else [d / path for d in base_dirs]
    for path in candidates:
        if path.suffix.lower() in RASTER_SUFFIXES and path.is_file():
            return path
    return None


def load_image(source: str | Path | bytes | Image) -> Image:
    """A PNG or JPEG as an RGB PIL image; anything else raises ImageError."""
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    if isinstance(source, PILImage.Image):
        return source.convert("RGB")
    try:
        if isinstance(source, bytes | bytearray):
            image = PILImage.open(io.BytesIO(source))
        else:
            image = PILImage.open(Path(source))
        if image.format not in RASTER_FORMATS:
            raise ImageError(f"only PNG and JPEG images are read, got {image.format or 'unknown'}")
        image.load()
    except (OSError, UnidentifiedImageError) as exc:
        raise ImageError(f"cannot read image: {exc}") from exc
    return image.convert("RGB")


def file_fingerprint(path: Path) -> str:
    """Changes when the image file changes (re-embed), cheap: path, size and mtime. One product
    image, so not ``encoder.model_fingerprint`` (a model folder's files, which moves with the
    folder): the path is part of what the vector came from."""
    stat = path.stat()
    return hashlib.sha256(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]


class ImageEncoder:
    """CLIP's image tower loaded once from a local folder (no network)."""

    def __init__(self, model_path: str | Path, batch_size: int = 32) -> None:
        import torch
        from transformers import CLIPImageProcessor, CLIPModel

        self.model_path = Path(model_path)
        if not (self.model_path / "config.json").is_file():
            raise FileNotFoundError(f"AISLE_IMAGE_MODEL: no CLIP model (config.json) in {self.model_path}")
        self.processor = CLIPImageProcessor.from_pretrained(str(self.model_path), local_files_only=True)
        self.model = CLIPModel.from_pretrained(str(self.model_path), local_files_only=True).eval()
        self.dim = int(self.model.config.projection_dim)
        self.batch_size = batch_size
        self._torch = torch
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        return f"{self.model_path.name}-{self.dim}"

    def encode_images(self, images: list[Any]) -> np.ndarray:
        """PIL images (or paths/bytes) → (n, dim) normalised vectors."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = [load_image(i) for i in images[start : start + self.batch_size]]
            pixels = self.processor(images=batch, return_tensors="pt")["pixel_values"]
            with self._lock, self._torch.inference_mode():
                features = self.model.get_image_features(pixel_values=pixels)
            out.append(features.float().numpy())
        vectors = np.concatenate(out).astype(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms > 0, norms, 1.0)

    def encode_image(self, image: str | Path | bytes | Image) -> np.ndarray:
        return self.encode_images([image])[0]


_image_encoder: ImageEncoder | None = None
_image_lock = threading.Lock()


def get_image_encoder(settings: Settings | None = None) -> ImageEncoder | None:
    """The process-wide image encoder when ``AISLE_IMAGE_MODEL`` is set, else None."""
    global _image_encoder
    settings = settings or get_settings()
    if not settings.image_model_path:
        return None
    with _image_lock:
        if _image_encoder is None or _image_encoder.model_path != Path(settings.image_model_path):
            _image_encoder = ImageEncoder(settings.image_model_path)
        return _image_encoder
