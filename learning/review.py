"""Review of flagged NLU candidates: confirm or correct the intent and entities; confirmed
examples become Rasa training data in ``data/nlu/reviewed/reviewed.yml``.

* The queue is the newest export's ``nlu_candidates.jsonl`` (messages flagged there), minus the
  ones already reviewed.
* Every decision is appended to ``data/nlu/reviewed/records.jsonl`` (who, when, the model's guess,
  the decision) — the review record is kept; Rasa ignores ``.jsonl`` files.
* ``reviewed.yml`` is rebuilt from the records: the latest decision per text wins, skipped
  messages and texts already in the hand-written training data are left out, examples are
  deduplicated and sorted, intents and entities are checked against ``domain.yml``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from common import domain
from common.files import write_text_atomic
from common.settings import ROOT, get_settings
from learning.export import latest_export
from learning.rasa_format import annotate, plain_text

_lock = threading.Lock()


class ReviewError(ValueError):
    """A review that cannot be accepted (unknown id, intent or entity, bad span)."""


def load_domain(path: Path) -> tuple[set[str], set[str]]:
    """The intent and entity names of the domain file at ``path`` (``common.domain`` reads it)."""
    return set(domain.intents(path)), set(domain.entities(path))


def existing_examples(nlu_dir: Path, skip: Path) -> set[str]:
    """Plain texts of the hand-written NLU examples (not the reviewed file itself)."""
    texts: set[str] = set()
    for file in nlu_dir.rglob("*.yml"):
        if skip in file.parents or "generated" in file.parts:
            continue
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            if isinstance(block, dict) and block.get("intent") and isinstance(block.get("examples"), str):
                for line in block["examples"].splitlines():
                    if line.strip().startswith("- "):
                        texts.add(plain_text(line.strip()[2:]))
    return texts


@dataclass
class ReviewQueue:
    export: Path | None
    reviewed_dir: Path
    domain_path: Path
    nlu_dir: Path

    @classmethod
    def from_settings(cls, export: Path | None = None, reviewed_dir: Path | None = None) -> ReviewQueue:

        if export is None or str(export) == "latest":
            export = latest_export(get_settings().training_dir / "exports")
        return cls(export, reviewed_dir or get_settings().reviewed_dir, domain.DOMAIN_PATH, ROOT / "data/nlu")

    @property
    def records_path(self) -> Path:
        return self.reviewed_dir / "records.jsonl"

    @property
    def yaml_path(self) -> Path:
        return self.reviewed_dir / "reviewed.yml"

    # ---------------------------------------------------------------- reading
    def candidates(self) -> list[dict[str, Any]]:
        if self.export is None:
            return []
        path = Path(self.export) / "nlu_candidates.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def records(self) -> list[dict[str, Any]]:
        if not self.records_path.exists():
            return []
        return [json.loads(line) for line in self.records_path.read_text(encoding="utf-8").splitlines()
                if line.strip()]

    def pending(self) -> list[dict[str, Any]]:
        """Flagged candidates not reviewed yet, lowest confidence first."""
        done = {r["id"] for r in self.records()}
        items = [c for c in self.candidates() if c.get("flags") and c["id"] not in done]
        return sorted(items, key=lambda c: (c.get("confidence") is not None, c.get("confidence") or 0.0))

    # ---------------------------------------------------------------- deciding
    def review(self, candidate_id: str, intent: str | None = None, entities: list[dict[str, Any]] | None = None,
               reviewer: str = "unknown", decision: str | None = None) -> dict[str, Any]:
        """Confirm (no intent/entities given), correct, or skip (``decision="skip"``) one candidate."""
        candidate = next((c for c in self.candidates() if c["id"] == candidate_id), None)
        if candidate is None:
            raise ReviewError(f"no candidate {candidate_id!r} in the export {self.export}")
        intents, known_entities = load_domain(self.domain_path)
        text = candidate["text"]
        if decision == "skip":
            final_intent, final_entities = None, []
        else:
            final_intent = intent or candidate.get("intent")
            if not final_intent:
                raise ReviewError("this message has no predicted intent: give the right one")
            if final_intent not in intents:
                raise ReviewError(f"unknown intent {final_intent!r} (not in domain.yml)")
            final_entities = candidate.get("entities") or [] if entities is None else entities
            final_entities = [_check_entity(e, text, known_entities) for e in final_entities]
            changed = final_intent != candidate.get("intent") or _span_set(final_entities) != _span_set(
                candidate.get("entities") or [])
            decision = "corrected" if changed else "confirmed"
        record = {
            "id": candidate_id, "decision": decision, "text": text, "intent": final_intent,
            "entities": final_entities, "model_intent": candidate.get("intent"),
            "model_confidence": candidate.get("confidence"), "model_entities": candidate.get("entities"),
            "flags": candidate.get("flags"), "conversation_id": candidate.get("conversation_id"),
            "export": str(self.export), "reviewer": reviewer,
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with _lock:
            self.reviewed_dir.mkdir(parents=True, exist_ok=True)
            with self.records_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.build_yaml()
        return record

    def build_yaml(self) -> Path:
        """Rewrite ``reviewed.yml`` from all records (latest decision per text wins)."""
        latest: dict[str, dict[str, Any]] = {}
        for record in self.records():
            latest[plain_text(record["text"])] = record
        handwritten = existing_examples(self.nlu_dir, self.reviewed_dir)
        by_intent: dict[str, set[str]] = {}
        for key, record in latest.items():
            if record["decision"] == "skip" or not record.get("intent") or key in handwritten:
                continue
            by_intent.setdefault(record["intent"], set()).add(annotate(record["text"], record["entities"]))
        lines = ["# Generated by `python -m learning review` from records.jsonl (the review",
                 "# record). Do not edit by hand: correct a message again in the review page instead.",
                 'version: "3.1"', "nlu:"]
        for intent in sorted(by_intent):
            lines += [f"- intent: {intent}", "  examples: |"]
            lines += [f"    - {example}" for example in sorted(by_intent[intent])]
        if not by_intent:
            lines[-1] = "nlu: []"
        return write_text_atomic(self.yaml_path, "\n".join(lines) + "\n")


def _span_set(entities: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(e.get("entity"), e.get("start"), e.get("end"), e.get("role")) for e in entities}


def _check_entity(entity: Any, text: str, known: set[str]) -> dict[str, Any]:
    if not isinstance(entity, dict):
        raise ReviewError("each entity must be an object {entity, start, end, value?, role?}")
    name, start, end = entity.get("entity"), entity.get("start"), entity.get("end")
    if name not in known:
        raise ReviewError(f"unknown entity {name!r} (not in domain.yml)")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        raise ReviewError(f"entity {name!r}: start/end must be a span of the text (0..{len(text)})")
    if "\n" in text[start:end] or "[" in text[start:end] or "]" in text[start:end]:
        raise ReviewError(f"entity {name!r}: the span cannot contain brackets or line breaks")
    clean = {"entity": name, "start": start, "end": end, "value": entity.get("value") or text[start:end]}
    if entity.get("role"):
        clean["role"] = str(entity["role"])
    return clean
