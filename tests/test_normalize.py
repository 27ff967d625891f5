"""The hotline's transcript normalization: fillers, numerals, sound-alike domain terms, correct text untouched."""

from __future__ import annotations

import re

import pytest

from bot.catalog.model import Catalog
from bot.channels.normalize import Normalizer, material_nouns, numerals_to_digits, readings, remove_fillers


@pytest.fixture(scope="module")
def normalizer(catalog: Catalog) -> Normalizer:
    return Normalizer.for_catalog(catalog)


@pytest.mark.parametrize("said, text", [
    ("喂 你好 嗯 那个 我媳妇生了 就是说 想问下 上户口要带啥", "我媳妇生了，上户口要带啥"),
    ("嗯嗯 那个就是我想问一下身份证", "我想问一下身份证"),
    ("户口 户口 怎么迁", "户口，怎么迁"),
    ("我我我想补办", "我想补办"),
    ("嗯 那个 就是", ""),
    ("喂 喂", ""),
    ("妈妈的户口", "妈妈的户口"),
    ("我就是广州户口", "我就是广州户口"),
])
def test_fillers_and_repetitions(said: str, text: str) -> None:
    assert remove_fillers(said) == text


@pytest.mark.parametrize("said, text", [
    ("我今年三十五岁", "我今年35岁"),
    ("二零二四年十月生的", "2024年10月生的"),
    ("社保交了五年", "社保交了5年"),
    ("孩子两个月大", "孩子2个月大"),
    ("电话幺三八一二三四五六七八", "电话13812345678"),
    ("孩子一直没上户口", "孩子一直没上户口"),
    ("我想问一下", "我想问一下"),
    ("统一办理", "统一办理"),
])
def test_numerals(said: str, text: str) -> None:
    assert numerals_to_digits(said) == text


@pytest.mark.parametrize("said, text", [
    ("我的身分正丢了", "我的身份证丢了"),
    ("护口在天河", "户口在天河"),
    ("我的居主证过期了", "我的居住证过期了"),
    ("我要签移户口到海珠", "我要迁移户口到海珠"),
    ("我爸去世了要住销户口", "我爸去世了要注销户口"),
    ("家里的户口薄，被小孩撕烂了", "家里的户口簿，被小孩撕烂了"),  # 薄 is also read bù
    ("孩子的出生医学正明拿到了", "孩子的出生医学证明拿到了"),  # a document the checklists name
    ("结婚正也有", "结婚证也有"),
    ("老人的居民户口部", "老人的居民户口簿"),
])
def test_sound_alike_domain_terms(normalizer: Normalizer, said: str, text: str) -> None:
    result = normalizer.normalize(said)
    assert result.text == text and result.corrections


@pytest.mark.parametrize("text", ["孩子现在还没户口", "带上结婚证和户口本", "薄薄的一本", "正明天去办"])
def test_right_words_stay_right(normalizer: Normalizer, text: str) -> None:
    """没 may be read mò like 无 (无户口), but a catalog term is only heard by its usual reading."""
    assert normalizer.normalize(text).text == text


def test_document_names_come_from_the_catalog(catalog: Catalog) -> None:
    nouns = material_nouns(catalog)
    assert {"出生医学证明", "结婚证", "居民户口簿"} <= nouns
    names = [a.name for t in catalog.trees.values() for s in t.scenarios for i in s.materials
             for a in getattr(i, "alternatives", [i])] + [
        a.name for t in catalog.trees.values() for e in t.extras for i in e.materials
        for a in getattr(i, "alternatives", [i])]
    bare = [re.sub(r"（[^（）]*）|\([^()]*\)|[《》]", "", name) for name in names]
    assert all(any(n in name for name in bare) for n in nouns)


def test_every_reading_of_a_character() -> None:
    assert readings("薄")[0] == "bao" and "bu" in readings("薄")
    assert readings("证", fold=True) == ("zen",)  # zh/z and -eng/-en folded


def test_correct_catalog_sentences_are_not_corrected(normalizer: Normalizer, catalog: Catalog) -> None:
    sentences = [e for c in catalog.categories for e in c.examples]
    sentences += [e for t in catalog.trees.values() for s in t.scenarios for e in s.examples]
    assert len(sentences) > 500
    changed = [(s, normalizer.normalize(s).corrections) for s in sentences if normalizer.normalize(s).corrections]
    assert len(changed) <= len(sentences) // 200, changed[:10]  # at most 0.5 %; measured: 0


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "户口" * 5000, "abc 123"])
def test_odd_input_does_not_crash(normalizer: Normalizer, text: str) -> None:
    assert len(normalizer.normalize(text).text) <= 2000
