"""The Rasa side of a retraining round: train a candidate Rasa model on the project's data plus the
reviewed examples, score it and the current model (``models/aisle.tar.gz``) on the same held-out
data, gate with :data:`learning.gate.RASA_GATES`, promote on its own decision.

Held-out data (never training data of the candidate; both models are scored by the same
``rasa test`` commands on the same files):

* ``nlu/macro_f1`` — the "macro avg" f1-score of the ``intent_report.json`` that
  ``rasa test nlu`` writes (Rasa undoes fallback predictions there and averages over the intents
  of the test set). The test set is the reviewed examples (``data/nlu/reviewed/*.yml``) whose
  stable hash — SHA-1 of the example's plain lower-cased text, without entity annotations —
  falls into one bucket of ``HOLDOUT_EVERY`` (about every 5th example). The split depends on the
  text only: an example stays on the same side in every round, also after its intent was
  corrected, and reviewing more examples never moves old ones. The candidate trains on the
  other reviewed examples. Fixed test files (``--rasa-nlu-test``, Rasa NLU YAML kept outside
  ``data/``) join the same test set; the project ships none, because every hand-written example
  in ``data/nlu`` is training data and the public Bitext set (``make eval-nlu``) has no shopping
  intents and takes minutes per model. With fewer than ``MIN_HELDOUT`` test examples the metric
  is left out, so the gate reports it as "missing" instead of deciding on noise.
* ``stories/accuracy`` — ``conversation_accuracy`` in the ``story_report.json`` of
  ``rasa test core`` on ``tests/test_stories.yml``: the share of test stories whose actions are
  all predicted right, given the stories' labelled intents (as in ``make test``, which requires
  every story to pass; without ``--e2e`` Rasa does not parse the user text, so this measures the
  dialogue policies and NLU is the other gate). Rasa trains on ``data/stories`` and
  ``data/rules`` only. Exported test stories are not used until someone has reviewed them into
  ``tests/test_stories.yml``.

The Makefile's ``rasa train`` reads ``--data $(python -m learning rasa-data)``: the
project data plus the training share of the reviewed examples, so the served model never sees
the NLU test set either.

Rasa 3.6 needs Python ≤ 3.10, so it runs as a subprocess: ``.venv-rasa/bin/rasa`` or
``AISLE_RASA_BIN``, with the project root as working folder (Rasa's training cache in ``.rasa/``
is shared with ``make build``). Files of a round: ``var/training/candidates/rasa/<stamp>.tar.gz``
(the candidate) and ``var/training/candidates/rasa/<stamp>/`` (data split, logs, test results).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from common.settings import ROOT, get_settings
from learning.gate import DEFAULT_MARGIN, DEFAULT_MIN_GAIN, RASA_GATES, Decision, decide
from learning.promotion import promote_rasa_model, rasa_model_path
from learning.rasa_format import plain_text

log = logging.getLogger(__name__)

HOLDOUT_EVERY = 5
MIN_HELDOUT = 20
DEFAULT_STORIES = ROOT / "tests/test_stories.yml"


class RasaError(RuntimeError):
    """A ``rasa`` command failed or wrote no result file."""


def rasa_bin() -> Path:
    """The Rasa executable: ``AISLE_RASA_BIN`` (a path, or a command on ``PATH``), else the
    project's ``.venv-rasa/bin/rasa`` (as in the Makefile and ``tools/stack.py``)."""
    value = get_settings().rasa_bin
    if not value:
        return ROOT / ".venv-rasa/bin/rasa"
    if "/" not in value:
        return Path(shutil.which(value) or value)
    return Path(value) if Path(value).is_absolute() else ROOT / value


# ---------------------------------------------------------------- data
@dataclass
class Split:
    """Reviewed examples by intent, split into training and held-out test examples."""

    train: dict[str, list[str]] = field(default_factory=dict)
    heldout: dict[str, list[str]] = field(default_factory=dict)
    other_blocks: list[dict[str, Any]] = field(default_factory=list)  # synonyms, regexes…: training

    @property
    def n_train(self) -> int:
        return sum(map(len, self.train.values()))

    @property
    def n_heldout(self) -> int:
        return sum(map(len, self.heldout.values()))


def is_heldout(example: str, every: int = HOLDOUT_EVERY) -> bool:
    """Whether a Rasa example (annotations allowed) belongs to the test side: a stable hash."""
    digest = hashlib.sha1(plain_text(example).encode("utf-8")).hexdigest()
    return int(digest[:12], 16) % every == 0


def nlu_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def read_examples(files: list[Path]) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """``[(intent, example)]`` from Rasa NLU files, and their other blocks (synonyms, regexes…)."""
    examples: list[tuple[str, str]] = []
    others: list[dict[str, Any]] = []
    for file in files:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            if isinstance(block, dict) and block.get("intent") and isinstance(block.get("examples"), str):
                examples += [(block["intent"], line.strip()[2:].strip()) for line in block["examples"].splitlines()
                             if line.strip().startswith("- ")]
            elif isinstance(block, dict):
                others.append(block)
    return examples, others


def split_reviewed(reviewed_dir: Path, every: int = HOLDOUT_EVERY) -> Split:
    examples, others = read_examples(nlu_files(reviewed_dir))
    split = Split(other_blocks=others)
    for intent, example in examples:
        side = split.heldout if is_heldout(example, every) else split.train
        if example not in side.setdefault(intent, []):
            side[intent].append(example)
    return split


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _str)


def write_nlu(path: Path, by_intent: dict[str, list[str]], other_blocks: Sequence[dict[str, Any]] = ()) -> int:
    """Write Rasa NLU YAML; return the number of intent examples written."""
    blocks: list[dict[str, Any]] = [
        {"intent": intent, "examples": "".join(f"- {e}\n" for e in sorted(examples))}
        for intent, examples in sorted(by_intent.items()) if examples]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump({"version": "3.1", "nlu": blocks + list(other_blocks)}, Dumper=_Dumper,
                              sort_keys=False, allow_unicode=True, width=1000), encoding="utf-8")
    return sum(len(b["examples"].splitlines()) for b in blocks)


def training_data(reviewed_train: Path | None, reviewed_dir: Path, root: Path = ROOT) -> list[Path]:
    """``--data`` of the candidate: ``data/nlu`` without the reviewed folder, the reviewed
    training split, ``data/stories`` and ``data/rules``."""
    reviewed_dir = reviewed_dir.resolve()
    nlu = [p for p in nlu_files(root / "data/nlu") if not p.resolve().is_relative_to(reviewed_dir)]
    return nlu + ([reviewed_train] if reviewed_train else []) + [root / "data/stories", root / "data/rules"]


def stage_training_data(reviewed_dir: Path, folder: Path, every: int = HOLDOUT_EVERY, root: Path = ROOT) -> list[Path]:
    """Write the reviewed training split into ``folder``; return ``--data`` paths for a model that
    must not see the held-out examples (``python -m learning rasa-data``)."""
    split = split_reviewed(reviewed_dir, every)
    train = folder / "reviewed.train.yml"
    write_nlu(train, split.train, split.other_blocks)
    return training_data(train, reviewed_dir, root)


def count_examples(files: list[Path]) -> int:
    return len(read_examples(files)[0])


# ---------------------------------------------------------------- Rasa's result files
def read_intent_report(path: Path) -> dict[str, float]:
    """``nlu/macro_f1``, ``nlu/accuracy``, ``nlu/examples`` from Rasa's ``intent_report.json``."""
    report = json.loads(path.read_text(encoding="utf-8"))
    macro = report["macro avg"]
    accuracy = report.get("accuracy")
    if not isinstance(accuracy, int | float):
        accuracy = report["micro avg"]["f1-score"]
    return {"nlu/macro_f1": float(macro["f1-score"]), "nlu/accuracy": float(accuracy),
            "nlu/examples": int(macro["support"])}


def read_story_report(path: Path) -> dict[str, float]:
    """``stories/accuracy`` (share of test stories without an error) and counts from Rasa's
    ``story_report.json``; empty when Rasa wrote no conversation-level result (no stories)."""
    conv = json.loads(path.read_text(encoding="utf-8")).get("conversation_accuracy")
    if not conv or not conv.get("total"):
        return {}
    return {"stories/accuracy": float(conv["accuracy"]), "stories/failed": int(conv["total"] - conv["correct"]),
            "stories/total": int(conv["total"])}


def model_trained_at(model: Path) -> datetime | None:
    """``trained_at`` from the ``metadata.json`` inside a Rasa 3 model archive."""
    try:
        with tarfile.open(model, "r:gz") as archive:
            for member in archive:
                if member.name.lstrip("./") == "metadata.json":
                    handle = archive.extractfile(member)
                    stamp = json.load(handle)["trained_at"] if handle else None
                    return datetime.fromisoformat(stamp).replace(tzinfo=UTC) if stamp else None
    except (OSError, tarfile.TarError, ValueError, KeyError):
        return None
    return None


# ---------------------------------------------------------------- running Rasa
@dataclass
class Rasa:
    """``rasa`` commands as subprocesses; each writes its output to a log file."""

    executable: Path = field(default_factory=rasa_bin)
    cwd: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)
    threads: int = 2
    timeout: float = 3600.0

    def run(self, args: list[str], log_file: Path) -> None:
        if not self.executable.exists():
            raise RasaError(f"no Rasa executable at {self.executable} (make setup, or set AISLE_RASA_BIN)")
        env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2", **self.env}
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("wb") as out:
            try:
                code = subprocess.run([str(self.executable), *args], cwd=self.cwd, env=env, stdout=out,
                                      stderr=subprocess.STDOUT, timeout=self.timeout, check=False).returncode
            except subprocess.TimeoutExpired as exc:
                raise RasaError(f"rasa {args[0]} timed out after {self.timeout:.0f}s (log: {log_file})") from exc
        if code != 0:
            tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-15:])
            raise RasaError(f"rasa {' '.join(args[:2])} exited with {code} (log: {log_file}):\n{tail}")

    def train(self, config: Path, domain: Path, data: list[Path], out: Path, name: str, log_file: Path) -> Path:
        self.run(["train", "--config", str(config), "--domain", str(domain), "--data", *map(str, data),
                  "--out", str(out), "--fixed-model-name", name, "--num-threads", str(self.threads)], log_file)
        model = out / f"{name}.tar.gz"
        if not model.exists():
            raise RasaError(f"rasa train wrote no {model} (log: {log_file})")
        return model

    def test_nlu(self, model: Path, nlu: Path, out: Path) -> dict[str, float]:
        self.run(["test", "nlu", "--nlu", str(nlu), "--model", str(model), "--out", str(out), "--no-plot"],
                 out.with_suffix(".log"))
        return _read(read_intent_report, out / "intent_report.json")

    def test_core(self, model: Path, stories: Path, out: Path) -> dict[str, float]:
        self.run(["test", "core", "--stories", str(stories), "--model", str(model), "--out", str(out),
                  "--no-plot"], out.with_suffix(".log"))
        return _read(read_story_report, out / "story_report.json")


def _read(reader: Callable[[Path], dict[str, float]], path: Path) -> dict[str, float]:
    try:
        return reader(path)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise RasaError(f"no usable result in {path}: {exc!r}") from exc


def evaluate(rasa: Rasa, model: Path, nlu_test: Path | None, stories: Path, out: Path) -> dict[str, float]:
    """Gate metrics of one model; the NLU ones only when ``nlu_test`` is given."""
    started = time.perf_counter()
    metrics: dict[str, float] = {}
    if nlu_test is not None:
        metrics |= rasa.test_nlu(model, nlu_test, out / "nlu")
    if stories.exists():
        metrics |= rasa.test_core(model, stories, out / "core")
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    return metrics


# ---------------------------------------------------------------- a running Rasa server
def rasa_token() -> str:
    token = get_settings().rasa_token
    path = get_settings().var_dir / "rasa-token"
    if not token and path.exists():
        token = path.read_text(encoding="utf-8").strip()
    return token


def reload_server(model: Path, url: str | None = None, token: str | None = None, timeout: float = 30.0) -> str:
    """Ask a running Rasa server to load ``model`` (``PUT /model``). Never raises: returns what
    happened. Rasa loads synchronously and finishes even when we stop waiting. Open conversations
    continue: their trackers are in the tracker store's database, which the new model reads."""
    url = (url or get_settings().rasa_url).rstrip("/")
    try:
        with urllib.request.urlopen(f"{url}/", timeout=2):
            pass
    except (urllib.error.URLError, OSError):
        return f"no Rasa server at {url}: it loads {model.name} when it starts"
    token = rasa_token() if token is None else token
    query = f"?{urllib.parse.urlencode({'token': token})}" if token else ""
    request = urllib.request.Request(f"{url}/model{query}", method="PUT",
                                     data=json.dumps({"model_file": str(model.resolve())}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return f"loaded by the Rasa server at {url} (HTTP {response.status})"
    except urllib.error.HTTPError as exc:
        message = f"the Rasa server at {url} refused to load it: HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:  # a timeout: the server keeps loading
        message = f"sent to the Rasa server at {url}, no answer within {timeout:g}s ({exc})"
    log.warning("reload: %s", message)
    return message


# ---------------------------------------------------------------- one round
@dataclass
class RasaRound:
    """What the Rasa side of a round did, for the report."""

    retrained: bool
    why: str  # why it was (or was not) retrained
    decision: Decision | None = None
    current: dict[str, Any] = field(default_factory=dict)
    candidate: dict[str, Any] = field(default_factory=dict)
    current_model: str | None = None
    candidate_model: str | None = None
    promoted: bool = False
    kept_previous: str | None = None  # where the replaced model was kept (for rollback)
    reload: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    def summary(self) -> str:
        if not self.retrained:
            return f"not retrained: {self.why}"
        if self.error or self.decision is None:
            return f"retrained: {self.why}. FAILED: {(self.error or '').splitlines()[0]}"
        verdict = "PROMOTED" if self.promoted else "REFUSED"
        if self.decision.promote and not self.promoted:
            verdict = "passed the gate (dry run, not promoted)"
        return f"retrained: {self.why}. {verdict} — {self.decision.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {**{k: v for k, v in self.__dict__.items() if k != "decision"},
                "decision": self.decision.to_dict() if self.decision else None, "summary": self.summary()}


def should_retrain(flag: bool | None, reviewed_dir: Path, model: Path) -> tuple[bool, str]:
    """``--rasa`` / ``--no-rasa`` decide; by default only when reviewed examples changed after the
    current model was trained (``trained_at`` inside the archive, else its file time)."""
    if flag is not None:
        return flag, "--rasa given" if flag else "--no-rasa given"
    files = nlu_files(reviewed_dir)
    n = count_examples(files)
    if not n:
        return False, f"no reviewed examples in {reviewed_dir}"
    if not model.exists():
        return False, f"no current model {model} to compare with (make build trains it)"
    trained = model_trained_at(model) or datetime.fromtimestamp(model.stat().st_mtime, UTC)
    changed = datetime.fromtimestamp(max(p.stat().st_mtime for p in files), UTC)
    when = f"{changed:%Y-%m-%d %H:%M} UTC; current model trained {trained:%Y-%m-%d %H:%M} UTC"
    if changed > trained:
        return True, f"{n} reviewed examples, changed after the current model was trained ({when})"
    return False, f"no reviewed examples newer than the current model ({n} reviewed, {when})"


@dataclass
class RoundOptions:
    flag: bool | None = None  # --rasa / --no-rasa; None: only when reviewed examples are newer
    config: Path = ROOT / "config.yml"
    domain: Path = ROOT / "domain.yml"
    stories: Path = DEFAULT_STORIES
    nlu_tests: list[Path] = field(default_factory=list)  # fixed NLU test files
    candidate: Path | None = None  # gate this model archive instead of training one
    every: int = HOLDOUT_EVERY
    min_heldout: int = MIN_HELDOUT
    margin: float = DEFAULT_MARGIN
    min_gain: float = DEFAULT_MIN_GAIN
    dry_run: bool = False
    reload: bool = True
    active: Path | None = None  # default: models/aisle.tar.gz
    reviewed_dir: Path | None = None  # default: data/nlu/reviewed
    work_dir: Path | None = None  # default: var/training/candidates/rasa
    project: Path = ROOT  # where data/nlu, data/stories and data/rules are


def run_round(options: RoundOptions, stamp: str, rasa: Rasa | None = None) -> RasaRound:
    """Decide whether to retrain; train, evaluate both models, gate, promote. A failing Rasa
    command ends the round as "FAILED" (nothing promoted) instead of raising."""
    settings = get_settings()
    active = options.active or rasa_model_path()
    reviewed_dir = options.reviewed_dir or settings.reviewed_dir
    if options.candidate and options.flag is None:
        retrain, why = True, "--rasa-candidate given"
    else:
        retrain, why = should_retrain(options.flag, reviewed_dir, active)
    result = RasaRound(retrain, why, current_model=str(active))
    if not retrain:
        return result
    rasa = rasa or Rasa(cwd=options.project)
    out = (options.work_dir or settings.training_dir / "candidates" / "rasa")
    folder = out / stamp
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        result.timings[name] = round(now - t, 1)
        t = now

    try:
        # 1. data: reviewed examples split by a stable hash; the held-out ones are the NLU test set
        split = split_reviewed(reviewed_dir, options.every)
        reviewed_train = folder / "data/reviewed.train.yml"
        write_nlu(reviewed_train, split.train, split.other_blocks)
        test_dir = folder / "nlu-test"
        write_nlu(test_dir / "reviewed.heldout.yml", split.heldout)
        for n, fixed in enumerate(options.nlu_tests):
            (test_dir / f"fixed-{n}-{fixed.name}").write_bytes(fixed.read_bytes())
        n_test = count_examples(nlu_files(test_dir))
        enough = n_test >= options.min_heldout
        result.data = {"reviewed for training": split.n_train, "reviewed held out": split.n_heldout,
                       "fixed NLU test files": ", ".join(map(str, options.nlu_tests)) or "none",
                       "NLU test examples": n_test,
                       "NLU test set": str(test_dir) if enough else
                       f"too small ({n_test} < {options.min_heldout}): nlu/macro_f1 not gated",
                       "test stories": str(options.stories), "held out by": f"hash % {options.every}"}

        # 2. the candidate
        if options.candidate:
            candidate = options.candidate
            if not candidate.is_file():
                raise RasaError(f"candidate model {candidate} is not a file")
        else:
            data = training_data(reviewed_train, reviewed_dir, options.project)
            candidate = rasa.train(options.config, options.domain, data, out, stamp, folder / "train.log")
        result.candidate_model = str(candidate)
        lap("train")

        # 3. both models on the same held-out data
        if not active.exists():
            raise RasaError(f"no current model {active} to compare with")
        nlu_test = test_dir if enough else None
        result.current = evaluate(rasa, active, nlu_test, options.stories, folder / "results/current")
        result.candidate = evaluate(rasa, candidate, nlu_test, options.stories, folder / "results/candidate")
        lap("evaluate")
    except RasaError as exc:
        log.error("rasa round: %s", exc)
        result.error = str(exc)
        return result

    # 4. gate, promote, and let a running server load it
    result.decision = decide(result.current, result.candidate, RASA_GATES, options.margin, options.min_gain)
    if result.decision.promote and not options.dry_run:
        kept = promote_rasa_model(candidate, active)
        result.promoted, result.kept_previous = True, str(kept) if kept else None
        if options.reload:
            result.reload = reload_server(active)
    lap("promote")
    return result
