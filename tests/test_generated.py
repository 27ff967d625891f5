"""Generated files match the catalog, so nothing derived is edited by hand or left stale."""

from __future__ import annotations

from pathlib import Path

from bot.catalog.model import Catalog
from bot.nlu.generate import write_jieba_dictionary, write_nlu
from bot.settings import GENERATED_NLU


def test_committed_nlu_data_is_up_to_date(catalog: Catalog, tmp_path: Path) -> None:
    fresh = tmp_path / "catalog.yml"
    write_nlu(catalog, fresh)
    assert fresh.read_text(encoding="utf-8") == GENERATED_NLU.read_text(encoding="utf-8"), \
        "run ./huji build and commit data/nlu/catalog.yml"


def test_jieba_dictionary_holds_every_answer_phrase(catalog: Catalog, tmp_path: Path) -> None:
    write_jieba_dictionary(catalog, tmp_path)
    words = {line.split(" ")[0] for line in (tmp_path / "catalog.txt").read_text(encoding="utf-8").splitlines()}
    for tree in catalog.trees.values():
        for q in tree.questions:
            for o in q.options:
                assert set(o.phrases()) - words == {p for p in o.phrases() if " " in p}
