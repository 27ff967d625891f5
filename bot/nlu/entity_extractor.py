"""Rasa component: marks catalog phrases as `category` and `fact` entities.

The patterns and example sentences are derived from the scenario catalog at training time and stored in the
model, so a trained model always extracts exactly the answers its catalog version knows.

Categories come in order of evidence: named ones whose answers the message also gives, then the other named
ones by how likely the classifier finds them. A message that names no business gets the classifier's guess,
marked with the role "inferred": it may start a consultation but never switches topic.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.booking_entities import booking_entities
from bot.nlu.category_classifier import CategoryClassifier, catalog_examples
from bot.nlu.matcher import PhraseFinder

PATTERNS_FILE = "patterns.json"
EXAMPLES_FILE = "category_examples.json"
INFER_THRESHOLD = 0.3  # chit-chat stays below 0.2; below this the assistant asks which business instead


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class CatalogEntityExtractor(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {"catalog_dir": "scenarios"}

    @staticmethod
    def supported_languages() -> List[str] | None:
        return ["zh"]

    @staticmethod
    def required_packages() -> List[str]:
        return ["spacy", "jieba"]

    def __init__(self, config: Dict[str, Any], storage: ModelStorage, resource: Resource,
                 finder: PhraseFinder | None = None, classifier: CategoryClassifier | None = None) -> None:
        self._config = config
        self._storage = storage
        self._resource = resource
        self._finder = finder
        self._classifier = classifier

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> CatalogEntityExtractor:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        from bot.catalog.loader import load_valid_catalog

        catalog = load_valid_catalog(Path(self._config["catalog_dir"]))
        self._finder = PhraseFinder.for_catalog(catalog)
        self._classifier = CategoryClassifier(catalog_examples(catalog))
        with self._storage.write_to(self._resource) as directory:
            (Path(directory) / PATTERNS_FILE).write_text(self._finder.to_json(), encoding="utf-8")
            (Path(directory) / EXAMPLES_FILE).write_text(
                json.dumps(self._classifier.examples, ensure_ascii=False), encoding="utf-8")
        return self._resource

    @classmethod
    def load(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> CatalogEntityExtractor:
        with model_storage.read_from(resource) as directory:
            finder = PhraseFinder.from_json((Path(directory) / PATTERNS_FILE).read_text(encoding="utf-8"))
            examples = json.loads((Path(directory) / EXAMPLES_FILE).read_text(encoding="utf-8"))
        classifier = CategoryClassifier([tuple(e) for e in examples])
        classifier.probabilities("出生登记")  # fit now (seconds), not on the first citizen's message
        return cls(config, model_storage, resource, finder, classifier)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._finder is None or self._classifier is None:
            return messages
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")  # this component runs after the intent classifier
            found = catalog_entities(self._finder, self._classifier, message.get(TEXT) or "",
                                     guess=intent in (None, "consult")) + booking_entities(message.get(TEXT) or "")
            message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name(found), add_to_output=True)
        return messages


def catalog_entities(finder: PhraseFinder, classifier: CategoryClassifier, text: str,
                     guess: bool = True) -> list[dict]:
    """Entities for one message: categories first, in order of evidence, then the facts.

    `guess`: whether a message that names no business may get the classifier's guess ("我说错了" must not).
    """
    matches = finder.find(text)
    facts = [{"entity": m.entity, "value": m.value, "start": m.start, "end": m.end, "confidence": 1.0}
             for m in matches if m.entity == "fact"]
    answers = Counter(f["value"].split(":", 1)[0] for f in facts)  # evidence: how many answers each business got
    named = [{"entity": "category", "value": m.value, "start": m.start, "end": m.end, "confidence": 1.0}
             for m in matches if m.entity == "category"]
    codes = {e["value"] for e in named}
    likely = classifier.probabilities(text) if len(codes) > 1 or (guess and not codes) else {}
    if named:
        return sorted(named, key=lambda e: (-answers[e["value"]], -likely.get(e["value"], 0.0),
                                            e["start"])) + facts
    if likely:
        code, p = max(likely.items(), key=lambda kv: kv[1])
        if p >= INFER_THRESHOLD:
            # the whole message is the evidence for a guess; the answers it holds stay (for that business)
            return [{"entity": "category", "role": "inferred", "value": code, "start": 0, "end": len(text),
                     "confidence": round(float(p), 3)}] + facts
    return facts
