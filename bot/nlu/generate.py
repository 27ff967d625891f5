"""Generates the catalog-derived NLU data and the jieba user dictionary (never edited by hand)."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml.scalarstring import LiteralScalarString

from bot.catalog.model import Catalog
from bot.nlu.matcher import JIEBA_FREQ, catalog_patterns
from bot.settings import GENERATED_NLU

GENERATED_NAME = GENERATED_NLU.name

HEADER = "# Generated from scenarios/*.yml by `./huji build`. Do not edit: change the catalog instead.\n"
# DIET learns only "is this a consultation" from these (the catalog matcher and the category classifier, which see
# every phrase and example, decide which business and which answer): a sample keeps training within budget and
# keeps consult from drowning the other intents.
SAMPLE = 2  # answer phrases per option used as `consult` examples
EXAMPLES_PER_SCENARIO = 2
EXAMPLES_PER_CATEGORY = 45  # the category classifier learns from all of them; DIET's training time grows with each
TEMPLATE_ASKS = ("{name}怎么写", "{name}的模板", "看一下{name}样本", "{name}格式是什么样的", "{name}在哪下载",
                 "有没有{name}样表", "{name}空白表")


def _block(examples: list[str]) -> LiteralScalarString:
    seen = dict.fromkeys(e.strip().replace("\n", " ") for e in examples if e.strip())
    return LiteralScalarString("".join(f"- {e}\n" for e in seen))


def _choices(catalog: Catalog) -> list[str]:
    """Bare picks of the n-th option ("2", "第二个"), as many as the longest question has options."""
    most = max((len(q.options) for t in catalog.trees.values() for q in t.questions), default=0)
    numerals = "一二三四五六七八九十"
    return [form.format(n=n, cn=numerals[n - 1]) for n in range(1, min(most, 10) + 1)
            for form in ("{n}", "第{cn}个", "选{n}")]


def _examples_of_other_intents(nlu_dir: Path) -> set[str]:
    """Examples written by hand for other intents ("不是" is a deny): never also a consult example."""
    from ruamel.yaml import YAML

    taken: set[str] = set()
    for path in sorted(nlu_dir.glob("*.yml")):
        if path.name == GENERATED_NAME:
            continue
        for block in (YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}).get("nlu", []):
            if block.get("intent") and block.get("intent") != "consult":
                taken |= {line.strip()[2:].strip() for line in str(block.get("examples", "")).splitlines()
                          if line.strip().startswith("- ")}
    return taken


def nlu_document(catalog: Catalog, nlu_dir: Path | None = None) -> dict:
    consult: list[str] = _choices(catalog)
    answer_phrases: list[str] = []
    for info in catalog.categories:
        consult += [info.name, *info.examples[:EXAMPLES_PER_CATEGORY]]
    for tree in catalog.trees.values():
        for s in tree.scenarios:
            consult += s.examples[:EXAMPLES_PER_SCENARIO]
        for q in tree.questions:
            # a few phrases per option teach the intent; all of them feed the lookup feature and the matcher
            phrase_lists = [o.phrases() for o in q.options] + [g.synonyms for g in q.groups]
            consult += [p for phrases in phrase_lists for p in phrases[:SAMPLE]]
            answer_phrases += [p for phrases in phrase_lists for p in phrases]
    taken = _examples_of_other_intents(nlu_dir or GENERATED_NLU.parent)
    consult = [e for e in consult if e.strip() not in taken]
    template_asks = [ask.format(name=t.name) for t in catalog.templates.values() for ask in TEMPLATE_ASKS[:2]]
    template_asks += [ask.format(name="模板") for ask in TEMPLATE_ASKS]
    return {
        "version": "3.1",
        "nlu": [
            {"intent": "consult", "examples": _block(consult)},
            {"intent": "show_template", "examples": _block(template_asks)},
            # what is not 户政 (scenarios/outside.yml), next to the hand-written examples in data/nlu/general.yml
            {"intent": "out_of_scope", "examples": _block([e for t in catalog.topics for e in t.examples
                                                           if e.strip() not in taken])},
            # lookup tables become regex features (RegexFeaturizer, no word boundaries)
            {"lookup": "business_keyword",
             "examples": _block([k for c in catalog.categories for k in [c.name, *c.keywords]])},
            {"lookup": "answer_phrase", "examples": _block(answer_phrases)},
        ],
    }


def write_nlu(catalog: Catalog, path: Path) -> None:
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.width = 4096
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        yaml.dump(nlu_document(catalog), fh)


def write_jieba_dictionary(catalog: Catalog, directory: Path) -> None:
    """One file in the folder JiebaTokenizer loads: every catalog phrase, kept whole."""
    directory.mkdir(parents=True, exist_ok=True)
    phrases = sorted(p for p in catalog_patterns(catalog) if p and " " not in p)
    (directory / "catalog.txt").write_text("".join(f"{p} {JIEBA_FREQ}\n" for p in phrases), encoding="utf-8")
