"""Guesses the business category of a message that names none of the catalog's keywords.

Character n-grams and logistic regression, trained on the catalog's own example sentences; small enough to be
refitted from those examples when the model loads, so the trained model stores only the examples.
"""

from __future__ import annotations

from functools import cached_property

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from bot.catalog.model import Catalog

Examples = list[tuple[str, str]]  # (text, category code)


def catalog_examples(catalog: Catalog) -> Examples:
    examples: Examples = []
    for info in catalog.categories:
        examples += [(text, info.code) for text in [info.name, *info.keywords, *info.examples]]
    for tree in catalog.trees.values():
        examples += [(text, tree.code) for s in tree.scenarios for text in s.examples]
    return examples


class CategoryClassifier:
    def __init__(self, examples: Examples):
        self.examples = examples

    @cached_property
    def _model(self) -> Pipeline:
        texts, labels = zip(*self.examples, strict=True)
        model = make_pipeline(
            TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
            LogisticRegression(C=20.0, max_iter=3000),
        )
        return model.fit(texts, labels)

    def probabilities(self, text: str) -> dict[str, float]:
        if not self.examples or not text.strip():
            return {}
        model = self._model
        return dict(zip(model.classes_, model.predict_proba([text])[0], strict=True))
