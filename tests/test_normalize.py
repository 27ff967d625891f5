"""The hotline's transcript normalization: fillers, numerals, sound-alike domain terms, correct text untouched."""

from __future__ import annotations

import pytest

from bot.catalog.model import Catalog
from bot.channels.normalize import Normalizer, numerals_to_digits, remove_fillers


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
])
def test_sound_alike_domain_terms(normalizer: Normalizer, said: str, text: str) -> None:
    result = normalizer.normalize(said)
    assert result.text == text and result.corrections


def test_correct_catalog_sentences_are_not_corrected(normalizer: Normalizer, catalog: Catalog) -> None:
    sentences = [e for c in catalog.categories for e in c.examples]
    sentences += [e for t in catalog.trees.values() for s in t.scenarios for e in s.examples]
    assert len(sentences) > 500
    changed = [(s, normalizer.normalize(s).corrections) for s in sentences if normalizer.normalize(s).corrections]
    assert len(changed) <= len(sentences) // 200, changed[:10]  # at most 0.5 %; measured: 0


@pytest.mark.parametrize("text", ["", "   ", "😀😀", "户口" * 5000, "abc 123"])
def test_odd_input_does_not_crash(normalizer: Normalizer, text: str) -> None:
    assert len(normalizer.normalize(text).text) <= 2000
