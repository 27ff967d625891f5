"""./huji eval in small: scoring of handmade parse results, question counts, the stock baseline's inputs, and one
real run of the evaluation on a few held-out messages with the trained model (the baseline is not trained here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from bot.catalog.model import Catalog
from bot.evaluation import evaluate
from bot.evaluation.baseline import ensure_stock_model, stock_examples, stock_nlu_yaml, write_stock_files
from bot.evaluation.questions import count_questions, description, questions_until, summarize
from bot.evaluation.scoring import (
    Expected,
    expected_from,
    percentile,
    project_prediction,
    score,
    stock_prediction,
)
from bot.nlu.category_classifier import catalog_examples
from bot.settings import ROOT
from bot.training import ensure_model

KNOWN = {"birth", "id_card", "temp_id", "death"}


def project_parse(intent: str, *entities: tuple[str, str] | tuple[str, str, str]) -> dict:
    """A Rasa parse result as the project's pipeline gives it: category and fact entities."""
    return {"intent": {"name": intent, "confidence": 0.9},
            "entities": [{"entity": e[0], "value": e[1], **({"role": e[2]} if len(e) > 2 else {})}
                         for e in entities]}


def stock_parse(*ranking: tuple[str, float], fallback: bool = False) -> dict:
    """A parse of the stock model; the FallbackClassifier puts nlu_fallback first, at its threshold."""
    top = ("nlu_fallback", 0.3) if fallback else ranking[0]
    return {"intent": {"name": top[0], "confidence": top[1]}, "entities": [],
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ([top] if fallback else []) + list(ranking)]}


def test_the_project_is_read_as_action_consult_reads_it() -> None:
    p = project_prediction(project_parse("consult", ("category", "birth"), ("fact", "birth:marital=married")), KNOWN)
    assert (p.category, p.facts) == ("birth", {"birth": {"marital": "married"}})
    guessed = project_prediction(project_parse("nlu_fallback", ("category", "death", "inferred")), KNOWN)
    assert guessed.category == "death" and guessed.named == []  # a guess starts a consultation, names nothing
    # an intent that does not go to the consultation loop starts none, whatever the entities say
    assert project_prediction(project_parse("out_of_scope", ("category", "id_card")), KNOWN).category is None
    assert project_prediction(project_parse("consult"), KNOWN).category is None


def test_the_stock_model_starts_a_consultation_on_its_top_intent_unless_it_falls_back() -> None:
    assert stock_prediction(stock_parse(("id_card", 0.8), ("temp_id", 0.1)), KNOWN).category == "id_card"
    fell_back = stock_prediction(stock_parse(("id_card", 0.2), ("temp_id", 0.1), fallback=True), KNOWN)
    assert fell_back.category is None and fell_back.named == ["id_card", "temp_id"]
    # the same ranking read at another threshold
    assert stock_prediction(stock_parse(("id_card", 0.2), fallback=True), KNOWN, threshold=0.1).category == "id_card"
    assert stock_prediction(stock_parse(("id_card", 0.8)), KNOWN, threshold=0.9).category is None


def test_held_out_entries_of_every_kind_are_told_apart() -> None:
    kinds = [expected_from(m).kind for m in [
        {"text": "a", "intent": "consult", "category": "birth", "facts": {"hk_status": "no"}},
        {"text": "b", "intent": "consult", "category": "two", "categories": ["birth", "id_card"]},
        {"text": "c", "intent": "consult", "topic": "house_purchase"},
        {"text": "d", "intent": "out_of_scope", "topic": "tax"},
        {"text": "e", "intent": "chitchat"},
        {"text": "f", "intent": "find_hall"},
        {"text": "g"},  # nothing but a text: scored for nothing, never a crash
    ]]
    assert kinds == ["category", "two", "house", "out", "out", "other", "other"]


def test_scores_of_a_handmade_set() -> None:
    expected = [
        Expected("孩子上户口", "consult", "birth", facts={"marital": "married", "timing": "within"}),
        Expected("身份证丢了", "consult", "id_card"),
        Expected("明天坐高铁", "consult", "temp_id"),
        Expected("社保卡", "out_of_scope", topic="social_insurance"),
        Expected("讲个笑话", "chitchat"),
        Expected("上户口顺便换身份证", "consult", "two", categories=("birth", "id_card")),
    ]
    project = [
        project_parse("consult", ("category", "birth"), ("fact", "birth:marital=married"),
                      ("fact", "birth:gz_hukou=both")),
        project_parse("consult", ("category", "id_card")),
        project_parse("consult", ("category", "id_card")),  # temp_id taken for id_card
        project_parse("out_of_scope", ("category", "id_card")),
        project_parse("consult", ("category", "death", "inferred")),  # small talk let through
        project_parse("consult", ("category", "birth"), ("category", "id_card")),
    ]
    s = score(expected, [project_prediction(p, KNOWN) for p in project])
    assert s.category_accuracy == pytest.approx(2 / 3)
    assert s.kept_out == pytest.approx(1 / 2)
    assert dict(s.kept_by_group) == {"social_insurance": 1} and s.cases_by_group["chitchat"] == 1
    assert s.two_found == 1.0
    assert (s.fact_precision, s.fact_recall) == (pytest.approx(1 / 2), pytest.approx(1 / 2))
    # id_card: one right, one taken from temp_id; temp_id: missed; death: a false start from small talk
    assert s.f1("id_card") == pytest.approx(2 / 3) and s.f1("temp_id") == 0.0 and s.f1("death") == 0.0
    assert s.f1("birth") == 1.0 and s.f1("unknown") is None
    assert any(line.startswith("业务错误") and "明天坐高铁" in line for line in s.misses)
    assert any(line.startswith("未拦住") and "讲个笑话" in line for line in s.misses)
    assert any(line.startswith("漏读事实") and "timing=within" in line for line in s.misses)
    assert any(line.startswith("多读事实") and "gz_hukou=both" in line for line in s.misses)

    stock = [stock_parse(("birth", 0.9)), stock_parse(("id_card", 0.9)), stock_parse(("temp_id", 0.5)),
             stock_parse(("id_card", 0.6)), stock_parse(("death", 0.2), fallback=True),
             stock_parse(("birth", 0.5), ("death", 0.3), ("id_card", 0.2))]
    t = score(expected, [stock_prediction(p, KNOWN) for p in stock], intents=False)
    assert (t.category_accuracy, t.kept_out, t.two_found) == (1.0, 0.5, 0.0)
    assert t.fact_recall is None and "routed_right" not in t.totals  # the stock model reads no facts or intents


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile([], 0.5)) == (50.0, 95.0, 0.0)


def test_questions_from_a_description_against_the_tree_path(catalog: Catalog) -> None:
    tree = catalog.trees["birth"]
    scenario = tree.scenario("birth_married_in_time")
    assert scenario is not None
    path = questions_until(tree, scenario, {})
    assert path is not None and path >= len(scenario.when)
    facts = [("fact", f"birth:{q}={allowed[0]}") for q, allowed in scenario.when.items()]
    told_all = count_questions(tree, scenario, "…", project_parse("consult", ("category", "birth"), *facts))
    assert told_all.asked is not None and told_all.asked < path and told_all.ratio is not None
    said_nothing = count_questions(tree, scenario, description(scenario), project_parse("consult"))
    assert (said_nothing.asked, said_nothing.ratio) == (path, 1.0)
    # a fact read wrong sends the walk elsewhere: that scenario is not reached, and is not counted as a ratio
    wrong = count_questions(tree, scenario, "…", project_parse("consult", ("fact", "birth:marital=unmarried")))
    assert wrong.asked is None
    summary = summarize([told_all, said_nothing, wrong])
    assert (summary.measured, summary.at_most_half, len(summary.not_reached)) == (2, int(told_all.ratio <= 0.5), 1)
    assert summary.mean_ratio == pytest.approx((told_all.ratio + 1.0) / 2)


def test_the_stock_baseline_is_stock_rasa_on_the_catalogs_example_sentences(catalog: Catalog, tmp_path: Path) -> None:
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    files = write_stock_files(catalog, tmp_path / "stock")
    config = yaml.safe_load(files.config.read_text(encoding="utf-8"))
    assert [c["name"] for c in config["pipeline"]] == [
        "JiebaTokenizer", "CountVectorsFeaturizer", "CountVectorsFeaturizer", "DIETClassifier", "FallbackClassifier"]
    assert config["pipeline"][2]["analyzer"].startswith("char")
    assert config["pipeline"][0]["dictionary_path"] == "build/jieba"  # the catalog's jieba dictionary
    data = RasaYAMLReader().read(files.nlu)
    assert data.intents == {c.code for c in catalog.categories}
    texts = {e.get("text") for e in data.intent_examples}
    assert texts == {" ".join(t.split()) for t, _ in catalog_examples(catalog)}
    assert len(data.intent_examples) == len(texts), "each sentence once"
    again = write_stock_files(catalog, tmp_path / "again")
    assert again.fingerprint == files.fingerprint, "same inputs, same cached model"
    assert "[" not in stock_nlu_yaml({"birth": ["写[错]了"]})  # never read as an entity annotation
    assert stock_examples(catalog)["birth"][0] == next(t for t, c in catalog_examples(catalog) if c == "birth")


def test_a_cached_stock_model_is_not_trained_again(catalog: Catalog, tmp_path: Path) -> None:
    files = write_stock_files(catalog, tmp_path / "stock")
    model = tmp_path / f"stock-{files.fingerprint}.tar.gz"
    model.write_bytes(b"")
    model.with_name(model.name.removesuffix(".tar.gz") + ".json").write_text(
        json.dumps({"training_seconds": 12.5, "training_cpu_seconds": 20.0, "examples": 1}))
    cached = ensure_stock_model(catalog, models_dir=tmp_path, folder=tmp_path / "stock")
    assert (cached.path, cached.cached, cached.training_seconds) == (model, True, 12.5)


def test_the_evaluation_runs_on_a_few_held_out_messages(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    held_out = yaml.safe_load((ROOT / "tests/heldout/messages.yml").read_text(encoding="utf-8"))["messages"]
    consults = [m for m in held_out if m.get("category") and m.get("category") != "two"][:4]
    out = [m for m in held_out if m["intent"] in ("out_of_scope", "greet")][:2]
    few = tmp_path / "messages.yml"
    few.write_text(yaml.safe_dump({"messages": consults + out}, allow_unicode=True), encoding="utf-8")

    figures = evaluate(ensure_model(), few, baseline=False, scenario_limit=3)

    printed = capsys.readouterr().out
    assert figures["messages"] == 6 and figures["scenarios_measured"] + sum(
        line.startswith("读错事实  ") for line in printed.splitlines()) <= 3
    for key in ("category_accuracy", "kept_out", "fact_precision", "fact_recall", "question_ratio"):
        assert figures[key] is None or 0.0 <= figures[key] <= 1.0, key
    assert figures["parse_p95_ms"] >= figures["parse_p50_ms"] > 0
    assert f"业务识别准确率（{len(consults)} 条）" in printed and "不属户政/寒暄未进入咨询（2 条）" in printed
    assert "情景 3 个" in printed and "各业务 F1" in printed
