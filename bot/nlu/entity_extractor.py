"""Rasa component: marks catalog phrases as `category` and `fact` entities.

The patterns are derived from the scenario catalog at training time and stored in the model, so a trained
model always extracts exactly the answers its catalog version knows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.matcher import PhraseFinder, catalog_patterns

PATTERNS_FILE = "patterns.json"


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
                 finder: PhraseFinder | None = None) -> None:
        self._config = config
        self._storage = storage
        self._resource = resource
        self._finder = finder

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> CatalogEntityExtractor:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        from bot.catalog.loader import load_valid_catalog

        catalog = load_valid_catalog(Path(self._config["catalog_dir"]))
        self._finder = PhraseFinder(catalog_patterns(catalog))
        with self._storage.write_to(self._resource) as directory:
            (Path(directory) / PATTERNS_FILE).write_text(self._finder.to_json(), encoding="utf-8")
        return self._resource

    @classmethod
    def load(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> CatalogEntityExtractor:
        with model_storage.read_from(resource) as directory:
            finder = PhraseFinder.from_json((Path(directory) / PATTERNS_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, finder)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._finder is None:
            return messages
        for message in messages:
            found = [
                {"entity": m.entity, "value": m.value, "start": m.start, "end": m.end,
                 "confidence": 1.0}
                for m in self._finder.find(message.get(TEXT) or "")
            ]
            message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name(found), add_to_output=True)
        return messages
