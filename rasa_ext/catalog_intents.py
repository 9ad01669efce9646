"""Rasa NLU component: a message naming the catalog's products goes to a shopping intent.

Placed after DIET and before the FallbackClassifier in ``config.yml``. Training reads the
lookup tables and the intent examples (``intent_evidence.Evidence.learn``) and stores what it
learned in the model; at run time a message whose top intent is not a shopping one, but which
names catalog terms and no service word, is re-ranked to ``search_product`` (a product type
named) or ``refine_search``. The original ranking follows, so nothing DIET said is lost.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from rasa_ext import intent_evidence
from rasa_ext.intent_evidence import Evidence

FILE = "catalog_evidence.json"
CONFIDENCE = 0.6  # above the FallbackClassifier's threshold (0.4): the catalog is the evidence


def _lookups(training_data: TrainingData) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for table in training_data.lookup_tables:
        elements = table.get("elements")
        if isinstance(elements, str):  # a file name (Rasa's older form)
            elements = Path(elements).read_text(encoding="utf-8").splitlines()
        out.setdefault(table["name"], []).extend(str(e).strip() for e in elements or [])
    return out


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class CatalogIntents(GraphComponent):
    def __init__(self, model_storage: ModelStorage, resource: Resource,
                 evidence: Evidence | None = None) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.evidence = evidence

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Rasa caches trained components by config and data: the code counts too."""
        return hashlib.sha256(Path(intent_evidence.__file__).read_bytes()
                              + Path(__file__).read_bytes()).hexdigest()

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> CatalogIntents:
        return cls(model_storage, resource)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> CatalogIntents:
        try:
            with model_storage.read_from(resource) as directory:
                data = json.loads((Path(directory) / FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            return cls(model_storage, resource)
        return cls(model_storage, resource, Evidence.from_dict(data))

    def train(self, training_data: TrainingData) -> Resource:
        examples = [(m.get(TEXT), m.get(INTENT)) for m in training_data.intent_examples]
        self.evidence = Evidence.learn(_lookups(training_data), examples)
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / FILE).write_text(json.dumps(self.evidence.to_dict()), encoding="utf-8")
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        if self.evidence is None:
            return messages
        for message in messages:
            intent = message.get(INTENT) or {}
            better = self.evidence.shopping_intent(message.get(TEXT) or "", intent.get("name"),
                                                   float(intent.get("confidence") or 0))
            if better is None:
                continue
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != better]
            top = {"name": better, "confidence": max(CONFIDENCE, float(intent.get("confidence") or 0))}
            rest = 1.0 - top["confidence"]
            scale = rest / (sum(float(r.get("confidence") or 0) for r in ranking) or 1.0)
            ranked = [{**r, "confidence": float(r.get("confidence") or 0) * scale} for r in ranking]
            message.set(INTENT, top, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [top, *ranked], add_to_output=True)
        return messages
