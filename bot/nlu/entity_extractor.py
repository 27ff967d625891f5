"""Rasa component: marks catalog phrases as `category` and `fact` entities.

The patterns and example sentences are derived from the scenario catalog at training time and stored in the
model, so a trained model always extracts exactly the answers its catalog version knows.

Categories come in order of evidence: the classifier's probability for the whole sentence, plus a bonus for each
business the message names; a business it does not name comes first only when the classifier is sure of it
("老公是军人…孩子落户" is a birth question). A message that names no business gets the classifier's guess, marked
with the role "inferred": it may start a consultation but never switches topic.

It also marks the non-户政 topic a message names (scenarios/outside.yml) and lets bot.nlu.scope correct DIET's
intent between consult and out_of_scope with that evidence.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.catalog.model import Catalog
from bot.catalog.outside import Topic, topic_in
from bot.consult.interpret import ANOTHER_BUSINESS
from bot.nlu.booking_entities import booking_entities
from bot.nlu.category_classifier import CategoryClassifier, training_examples
from bot.nlu.matcher import PhraseFinder, fact_value
from bot.nlu.scope import OUTSIDE, best_business, scoped_intent

PATTERNS_FILE = "patterns.json"
EXAMPLES_FILE = "category_examples.json"
TOPICS_FILE = "outside_topics.json"
ROUTES_FILE = "routes.json"
Routes = dict[str, str]  # fact value ("id_card:hukou=other") -> the category it makes the message ("id_remote")
INFER_THRESHOLD = 0.25  # below this the assistant asks which business instead (not-户政 has a class of its own)
# what naming a business adds to the classifier's probability for it (grouped cross-validation on the catalog and
# the held-out split agree on a plateau from 0.2 to 0.5; naming alone, the old rule, was ten points worse)
NAMED_BONUS = 0.3
OVERRIDE_SURE = 0.4  # a business the message does not name overtakes a named one only when the classifier is this sure
# a business only the part after a joining word asks about ("孩子上户口，顺便我身份证也要换") counts as named when
# the classifier is this sure of that part alone
ADDED_SURE = 0.5
CLAUSE_MARKS = "，,。；;！!？? "
OUTSIDE_INTENTS = ("out_of_scope", "chitchat")  # their examples teach the classifier what is not 户政


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
                 finder: PhraseFinder | None = None, classifier: CategoryClassifier | None = None,
                 topics: list[Topic] | None = None, routes: Routes | None = None) -> None:
        self._config = config
        self._storage = storage
        self._resource = resource
        self._finder = finder
        self._classifier = classifier
        self._topics = topics or []
        self._routes = routes or {}

    @classmethod
    def create(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> CatalogEntityExtractor:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        from bot.catalog.loader import load_valid_catalog

        catalog = load_valid_catalog(Path(self._config["catalog_dir"]))
        self._finder = PhraseFinder.for_catalog(catalog)
        outside = [m.get(TEXT) for m in training_data.intent_examples if m.get(INTENT) in OUTSIDE_INTENTS]
        self._classifier = CategoryClassifier(training_examples(catalog, outside))
        self._topics = list(catalog.topics)
        self._routes = catalog_routes(catalog)
        with self._storage.write_to(self._resource) as directory:
            (Path(directory) / PATTERNS_FILE).write_text(self._finder.to_json(), encoding="utf-8")
            (Path(directory) / EXAMPLES_FILE).write_text(
                json.dumps(self._classifier.examples, ensure_ascii=False), encoding="utf-8")
            (Path(directory) / TOPICS_FILE).write_text(
                json.dumps([dataclasses.asdict(t) for t in self._topics], ensure_ascii=False), encoding="utf-8")
            (Path(directory) / ROUTES_FILE).write_text(json.dumps(self._routes, ensure_ascii=False), encoding="utf-8")
        return self._resource

    @classmethod
    def load(cls, config: Dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> CatalogEntityExtractor:
        with model_storage.read_from(resource) as directory:
            finder = PhraseFinder.from_json((Path(directory) / PATTERNS_FILE).read_text(encoding="utf-8"))
            examples = json.loads((Path(directory) / EXAMPLES_FILE).read_text(encoding="utf-8"))
            topics = [Topic(**{k: tuple(v) if isinstance(v, list) else v for k, v in t.items()})
                      for t in json.loads((Path(directory) / TOPICS_FILE).read_text(encoding="utf-8"))]
            routes = json.loads((Path(directory) / ROUTES_FILE).read_text(encoding="utf-8"))
        classifier = CategoryClassifier([tuple(e) for e in examples])
        classifier.probabilities("出生登记")  # fit now (seconds), not on the first citizen's message
        return cls(config, model_storage, resource, finder, classifier, topics, routes)

    def process(self, messages: List[Message]) -> List[Message]:
        if self._finder is None or self._classifier is None:
            return messages
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")  # this component runs after the intent classifier
            text = message.get(TEXT) or ""
            found = catalog_entities(self._finder, self._classifier, text, guess=intent in (None, "consult"),
                                     routes=self._routes)
            topic = topic_in(self._topics, text)
            if topic is not None:
                found.append({"entity": "topic", "value": topic.code, "start": 0, "end": len(text), "confidence": 1.0})
            self._rescope(message, intent, text, found, topic)
            found += booking_entities(text)
            message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name(found), add_to_output=True)
        return messages

    def _rescope(self, message: Message, intent: str | None, text: str, found: list[dict],
                 topic: Topic | None) -> None:
        """Corrects DIET between consult and out_of_scope (bot.nlu.scope) before the fallback classifier runs."""
        if self._classifier is None:
            return
        named = [e["value"] for e in found if e["entity"] == "category" and e.get("role") != "inferred"]
        new = scoped_intent(intent, named, topic.code if topic else None, bool(topic and topic.over_business),
                            self._classifier.probabilities(text), (message.get(INTENT) or {}).get("confidence", 1.0))
        if (new or intent) == "out_of_scope":  # a consultation's facts and guesses would only confuse its answer
            found[:] = [e for e in found if e["entity"] == "topic"]
        if new is None or new == intent:
            return
        # DIET's opinions stay listed but overruled: the fallback classifier must not find two top intents
        ranking = [{"name": new, "confidence": 1.0}] + [{**r, "confidence": 0.0} for r in
                                                        message.get(INTENT_RANKING_KEY) or [] if r.get("name") != new]
        message.set(INTENT, {"name": new, "confidence": 1.0}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


def catalog_routes(catalog: Catalog) -> Routes:
    return {fact_value(c.code, r.question, r.option): r.to for c in catalog.categories for r in c.routes}


def rerouted(categories: list[dict], facts: list[dict], routes: Routes) -> list[dict]:
    """The first business replaced by the one an answer in the message makes it (scenarios/categories.yml,
    `routes`): "我是湖南户口，身份证丢了" names 身份证 but is 身份证异地受理."""
    if not categories:
        return categories
    first = categories[0]
    to = next((routes[f["value"]] for f in facts
               if f["value"] in routes and f["value"].startswith(first["value"] + ":")), None)
    if to is None:
        return categories
    return [{**first, "value": to}] + [c for c in categories[1:] if c["value"] not in (to, first["value"])]


def added_businesses(classifier: CategoryClassifier, text: str, have: set[str]) -> list[dict]:
    """Businesses the two parts of a message around a joining word (顺便, 还有 …) ask about, when no keyword names
    them: "退伍回来落户，还想把老婆的户口也迁过来" adds 亲属投靠, "我爸走了要销户口，还要开个注销证明" 死亡注销.
    The second part starts at its clause ("…，身份证也要重新办"), so the words before the joining word count."""
    cue = min((i for word in ANOTHER_BUSINESS if (i := text.find(word, 2)) >= 0), default=None)
    if cue is None:
        return []
    start = max(text.rfind(mark, 0, cue) for mark in CLAUSE_MARKS) + 1 or cue
    added = []
    for begin, end in ((0, start), (start, len(text))):
        best, p = best_business(classifier.probabilities(text[begin:end]))
        if best is not None and best not in have and p >= ADDED_SURE:
            have = have | {best}
            added.append({"entity": "category", "value": best, "start": begin, "end": end,
                          "confidence": round(float(p), 3)})
    return added


def catalog_entities(finder: PhraseFinder, classifier: CategoryClassifier, text: str,
                     guess: bool = True, routes: Routes | None = None) -> list[dict]:
    """Entities for one message: categories first, in order of evidence, then the facts.

    The evidence for a business is the classifier's probability for the whole sentence plus NAMED_BONUS when the
    message names it: a keyword is strong evidence but not proof ("老公是军人…孩子落户" names 军人, asks about birth).
    `guess`: whether a message may get a business it does not name ("我说错了" must not).
    """
    matches = finder.find(text)
    facts = [{"entity": m.entity, "value": m.value, "start": m.start, "end": m.end, "confidence": 1.0}
             for m in matches if m.entity == "fact"]
    named = [{"entity": "category", "value": m.value, "start": m.start, "end": m.end, "confidence": 1.0}
             for m in matches if m.entity == "category"]
    codes = {e["value"] for e in named}
    likely = classifier.probabilities(text) if codes or guess else {}
    outside = likely.get(OUTSIDE, 0.0)
    best, p = best_business(likely)
    if named:
        def evidence(code: str) -> float:
            return likely.get(code, 0.0) + NAMED_BONUS

        ordered = sorted(named, key=lambda e: (-evidence(e["value"]), e["start"]))
        if guess and best not in codes and p >= OVERRIDE_SURE and p > evidence(ordered[0]["value"]):
            ordered.insert(0, {"entity": "category", "value": best, "start": 0, "end": len(text),
                               "confidence": round(float(p), 3)})
        ordered = rerouted(ordered, facts, routes or {})
        added = added_businesses(classifier, text, {e["value"] for e in ordered}) if guess else []
        return ordered + added + facts
    if guess and best is not None and p >= INFER_THRESHOLD and p > outside:
        # the whole message is the evidence for a guess; the answers it holds stay (for that business)
        parts = added_businesses(classifier, text, set())
        if len(parts) == 2:  # both parts of "我爸走了要销户口，还要开个注销证明" are surely a business each
            return parts + facts
        inferred = [{"entity": "category", "role": "inferred", "value": best, "start": 0, "end": len(text),
                     "confidence": round(float(p), 3)}]
        return rerouted(inferred, facts, routes or {}) + facts
    return facts
