"""The stock Rasa baseline: what Rasa alone makes of the catalog's own example sentences.

Nothing of the project's recognizer is in it: Rasa's JiebaTokenizer, word and character count vectors, DIET with
one intent per category and the FallbackClassifier, with the values of Rasa's own starter config (`rasa init`).
Its tokenizer loads the catalog's jieba dictionary (build/jieba) like the project's does: jieba keeps one
dictionary per process, so both models parse with it in the evaluation anyway, and the comparison is then about
the pipeline, not the word list.

Its training data is written under build/stock/ (never into data/), and the trained model is cached under
models/ by a fingerprint of its inputs, so a second evaluation does not retrain.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.catalog.model import Catalog
from bot.nlu.category_classifier import catalog_examples
from bot.settings import BUILD_DIR, JIEBA_DICT_DIR, MODELS_DIR, ROOT

STOCK_DIR = BUILD_DIR / "stock"
KEEP_MODELS = 2
FALLBACK_THRESHOLD = 0.3  # Rasa's starter values; the top intent below it becomes nlu_fallback
AMBIGUITY_THRESHOLD = 0.1


def stock_config(dictionary_dir: Path | None = JIEBA_DICT_DIR) -> dict:
    tokenizer: dict = {"name": "JiebaTokenizer"}
    if dictionary_dir is not None:
        # relative to the project (Rasa trains there): the same inputs give the same fingerprint in every checkout
        where = dictionary_dir.resolve()
        tokenizer["dictionary_path"] = where.relative_to(ROOT).as_posix() if where.is_relative_to(ROOT) else str(where)
    return {
        "recipe": "default.v1",
        "language": "zh",
        "assistant_id": "huji-stock-baseline",  # set here, or Rasa writes a random one into the file
        "pipeline": [
            tokenizer,
            {"name": "CountVectorsFeaturizer"},
            {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
            # 60 epochs, the project's DIET budget (Rasa's starter says 100): stock training on this shared
            # machine must fit in an evaluation run; every other value is Rasa's default
            {"name": "DIETClassifier", "epochs": 60, "constrain_similarities": True, "random_seed": 42},
            {"name": "FallbackClassifier", "threshold": FALLBACK_THRESHOLD,
             "ambiguity_threshold": AMBIGUITY_THRESHOLD},
        ],
        "policies": [],
    }


def stock_examples(catalog: Catalog) -> dict[str, list[str]]:
    """Category code -> its example sentences, once each (a sentence already taken by a category stays there)."""
    seen: set[str] = set()
    by_category: dict[str, list[str]] = {}
    for text, code in catalog_examples(catalog):
        text = " ".join(text.split())  # one line per example in Rasa's YAML
        if text and text not in seen:
            seen.add(text)
            by_category.setdefault(code, []).append(text)
    return by_category


def stock_nlu_yaml(examples: dict[str, list[str]]) -> str:
    """Rasa NLU training data, one intent per category code."""
    lines = ['version: "3.1"', "nlu:"]
    for code, texts in examples.items():
        lines += [f"- intent: {code}", "  examples: |"]
        # a sentence is plain text to Rasa: square brackets would read as an entity annotation
        lines += [f"    - {t.replace('[', '［').replace(']', '］')}" for t in texts]
    return "\n".join(lines) + "\n"


@dataclass
class StockFiles:
    config: Path
    nlu: Path
    fingerprint: str


def write_stock_files(catalog: Catalog, folder: Path = STOCK_DIR,
                      dictionary_dir: Path | None = JIEBA_DICT_DIR) -> StockFiles:
    folder.mkdir(parents=True, exist_ok=True)
    config_text = yaml.safe_dump(stock_config(dictionary_dir), allow_unicode=True, sort_keys=False)
    nlu_text = stock_nlu_yaml(stock_examples(catalog))
    (folder / "config.yml").write_text(config_text, encoding="utf-8")
    (folder / "nlu.yml").write_text(nlu_text, encoding="utf-8")
    digest = hashlib.sha256()
    for part in (config_text, nlu_text, (ROOT / "requirements.txt").read_text(encoding="utf-8")):
        digest.update(part.encode())
    if dictionary_dir is not None:
        for f in sorted(p for p in dictionary_dir.rglob("*") if p.is_file()):
            digest.update(f.name.encode())
            digest.update(f.read_bytes())
    return StockFiles(folder / "config.yml", folder / "nlu.yml", digest.hexdigest()[:16])


@dataclass
class StockModel:
    path: Path
    training_seconds: float  # wall time
    examples: int
    cached: bool  # trained by an earlier evaluation
    training_cpu_seconds: float | None = None  # the machine is shared: CPU time says what the training cost


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _meta_path(model: Path) -> Path:
    return model.with_name(model.name.removesuffix(".tar.gz") + ".json")


def ensure_stock_model(catalog: Catalog, models_dir: Path = MODELS_DIR, folder: Path = STOCK_DIR) -> StockModel:
    """The cached stock model of these inputs, trained first if there is none."""
    files = write_stock_files(catalog, folder)
    examples = sum(len(t) for t in stock_examples(catalog).values())
    model = models_dir / f"stock-{files.fingerprint}.tar.gz"
    meta = _meta_path(model)
    if model.exists() and meta.exists():
        known = json.loads(meta.read_text())
        return StockModel(model, known["training_seconds"], examples, True, known.get("training_cpu_seconds"))
    print(f"训练对照用的原生 Rasa 模型（{examples} 条目录例句）……", flush=True)
    with tempfile.TemporaryDirectory(prefix="rasa-cache-", dir=folder) as cache:
        # an empty cache: Rasa would otherwise reuse components and the training time would mean nothing
        env = {**os.environ, "RASA_CACHE_DIRECTORY": cache, "RASA_TELEMETRY_ENABLED": "false"}
        started, cpu_before = time.monotonic(), _children_cpu()
        done = subprocess.run(
            [sys.executable, "-m", "rasa", "train", "nlu", "--config", str(files.config), "--nlu", str(files.nlu),
             "--out", str(models_dir), "--fixed-model-name", model.name.removesuffix(".tar.gz")],
            cwd=ROOT, env=env, capture_output=True, text=True)
        seconds, cpu = time.monotonic() - started, _children_cpu() - cpu_before
    if done.returncode != 0 or not model.exists():
        raise RuntimeError(f"原生 Rasa 对照模型训练失败（退出码 {done.returncode}）：\n"
                           f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    meta.write_text(json.dumps({"training_seconds": round(seconds, 1), "training_cpu_seconds": round(cpu, 1),
                                "examples": examples}))
    for old in sorted(models_dir.glob("stock-*.tar.gz"), key=lambda p: p.stat().st_mtime)[:-KEEP_MODELS]:
        old.unlink()
        _meta_path(old).unlink(missing_ok=True)
    return StockModel(model, seconds, examples, False, cpu)
