"""Cleans a speech-recognition transcript before the NLU reads it: one step any channel can call.

1. Fillers and repetitions: "喂 喂 嗯 那个 就是说 我想问一下" -> "我想问一下". Interjections (嗯, 呃, 喂 …) go
   wherever they stand alone; words that are also content (那个, 就是, 然后 …) only when the recognizer set them
   apart with spaces or they open the utterance. A word said twice in a row ("户口 户口") is kept once.
2. Chinese numerals to digits where they are numbers: before a unit ("三十五岁" -> "35岁", "两个月" -> "2个月")
   and read digit by digit ("二零二四年" -> "2024年", phone and ID numbers), with cn2an. "一下", "一直", "统一"
   are words, not numbers, and stay.
3. Near-homophones of the catalog's own vocabulary (keywords, answer phrases, category names) are corrected:
   "护口" -> "户口", "身分正" -> "身份证", "签移" -> "迁移". A span is replaced only when it is not itself a word:
   two-character terms need the same toneless pinyin, a shared character and a span jieba does not know as a
   word; longer terms may use the folded southern initials (bot.nlu.homophones) and need a shared character.
   Text that already contains a catalog phrase at a position is never re-heard there.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache

import cn2an
from pypinyin import Style, lazy_pinyin, pinyin

from bot.nlu.homophones import fold as _fold

MAX_CHARS = 2000  # a spoken utterance is far shorter; the rest of a longer text is dropped
MAX_READINGS = 8  # reading combinations tried per span (most characters have one reading)

INTERJECTIONS = ("嗯", "呃", "额", "唉", "哎", "喂", "啊", "哦", "噢", "呀", "哈", "嘛", "呢", "吧", "诶", "欸")
LONE_FILLERS = ("那个", "这个", "就是说", "就是", "然后呢", "然后", "那么", "怎么说呢", "你知道吧", "对吧",
                "反正", "其实", "这样子", "那啥", "你好", "您好", "麻烦问一下", "请问", "问一下", "我想问一下",
                "想问一下", "我想问下", "想问下")
# words that carry no meaning at the very start of an utterance (a greeting is said before the question)
OPENING_FILLERS = ("那个", "这个", "就是说", "就是", "然后", "那么", "喂", "嗯", "呃", "啊", "哦")
# removed only as a lone token or at the start; "你好" and "请问" are kept when they are all that was said
KEEP_IF_ALONE = ("你好", "您好", "请问", "麻烦问一下", "问一下", "我想问一下", "想问一下", "我想问下", "想问下")
STUTTER = re.compile(r"([\u4e00-\u9fff])\1{2,}")  # "我我我" -> "我" (two in a row is often a real word: 妈妈)
REPEAT = re.compile(r"([\u4e00-\u9fff]{2,6})\1+")  # "户口户口" -> "户口"

CN_DIGIT = "零〇一二两三四五六七八九"
CN_NUM = f"{CN_DIGIT}十百千万"
UNITS = ("周岁", "岁", "个工作日", "个多月", "个月", "年", "月", "日", "号", "天", "次", "分", "份", "张", "个人",
         "口人", "位", "小时", "点", "楼", "栋", "室")
NUMBER_BEFORE_UNIT = re.compile(rf"(?<![{CN_NUM}])([{CN_NUM}]+)(?=({'|'.join(UNITS)}))")
DIGIT_RUN = re.compile(rf"[{CN_DIGIT}]{{3,}}")  # "二零二四", "幺三八…" read digit by digit
SPOKEN_ONE = str.maketrans({"幺": "一"})
NOT_NUMBERS = ("一下", "一直", "一起", "一样", "一定", "一般", "一些", "一点", "统一", "万一", "唯一", "一方",
               "一次性", "一次", "一张", "一份", "一个", "一位", "一天", "一年", "一月", "十分", "三点", "两点",
               "万分", "一体", "一律", "一半", "第一")


@dataclass(frozen=True)
class Change:
    kind: str  # "filler", "number" or "sound"
    before: str
    after: str


@dataclass
class Normalized:
    text: str
    original: str
    changes: list[Change] = field(default_factory=list)

    @property
    def corrections(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "sound"]


def _is_cjk(text: str) -> bool:
    return bool(text) and all("\u4e00" <= c <= "\u9fff" for c in text)


@lru_cache(maxsize=8192)
def _plain(char: str) -> str:
    return lazy_pinyin(char, style=Style.NORMAL)[0] if _is_cjk(char) else char


@lru_cache(maxsize=16384)
def readings(char: str, fold: bool = False) -> tuple[str, ...]:
    """Every toneless reading of a character, the usual one first: 薄 is báo but also bù as in 户口簿 (the
    recognizer wrote the character, not the sound it heard, so any reading may be the one it heard)."""
    if not _is_cjk(char):
        return (char,)
    found = [_plain(char)] + pinyin(char, style=Style.NORMAL, heteronym=True)[0]
    found = [_fold(r) if fold else r for r in found]
    return tuple(dict.fromkeys(found))


def usual_sound(text: str, fold: bool = False) -> tuple[str, ...]:
    return tuple(readings(c, fold)[0] for c in text)


def reading_keys(per_char: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The reading tuples of a span from its characters' readings, the usual one first, at most MAX_READINGS."""
    if all(len(r) == 1 for r in per_char):
        return [tuple(r[0] for r in per_char)]
    return list(itertools.islice(itertools.product(*per_char), MAX_READINGS))


# ---------------------------------------------------------------------------------------------------- fillers
def remove_fillers(text: str, changes: list[Change] | None = None) -> str:
    changes = changes if changes is not None else []
    original = text
    tokens = [t for t in re.split(r"[\s,，。.!！?？、；;…~～]+", text) if t]
    kept: list[str] = []
    for token in tokens:
        token = _strip_interjections(token)
        if not token:
            continue
        if token in LONE_FILLERS and len(tokens) > 1:
            continue
        while True:  # "那个就是我想问" -> "我想问"
            opening = next((f for f in OPENING_FILLERS if token.startswith(f) and len(token) > len(f)), None)
            if opening is None or kept:
                break
            token = token[len(opening):]
        if kept and token == kept[-1]:  # "户口 户口"
            continue
        kept.append(token)
    if len(kept) > 1:
        kept = [t for t in kept if t not in KEEP_IF_ALONE] or kept[:1]
    text = "，".join(kept)
    text = STUTTER.sub(r"\1", text)
    text = REPEAT.sub(r"\1", text)
    if text != re.sub(r"\s+", "", original) and text != original:
        changes.append(Change("filler", original, text))
    return text


def _strip_interjections(token: str) -> str:
    if token in INTERJECTIONS or all(c in INTERJECTIONS for c in token):
        return ""
    while token and token[0] in INTERJECTIONS[:7] and len(token) > 1:  # "嗯我想问" (not 啊/哦 mid-word)
        token = token[1:]
    return token


# ---------------------------------------------------------------------------------------------------- numbers
def numerals_to_digits(text: str, changes: list[Change] | None = None) -> str:
    changes = changes if changes is not None else []
    before = text
    text = text.translate(SPOKEN_ONE) if "幺" in text and DIGIT_RUN.search(text.translate(SPOKEN_ONE)) else text

    def digit_run(m: re.Match) -> str:
        run = m.group(0)
        if any(c in "十百千万" for c in run):
            return run
        return "".join(str("零一二三四五六七八九".index(c)) if c in "零一二三四五六七八九" else
                       {"〇": "0", "两": "2"}[c] for c in run)

    text = DIGIT_RUN.sub(digit_run, text)

    def before_unit(m: re.Match) -> str:
        number, unit = m.group(1), m.group(2)
        start = m.start(1)
        context = text[max(0, start - 1):m.end(1) + len(unit) + 1]
        if any(w in context for w in NOT_NUMBERS) and len(number) == 1:
            return number
        if start > 0 and text[start - 1] == "第" and len(number) == 1:
            return number
        try:
            value = cn2an.cn2an(number, "smart")
        except (ValueError, KeyError, TypeError, IndexError):
            return number
        return str(int(value)) if float(value).is_integer() else str(value)

    text = NUMBER_BEFORE_UNIT.sub(before_unit, text)
    if text != before:
        changes.append(Change("number", before, text))
    return text


# ---------------------------------------------------------------------------------------------------- sounds
class SoundCorrector:
    """Replaces spans that sound like a catalog term but are not written like one."""

    def __init__(self, vocabulary: list[str], known_words: set[str] | frozenset[str] = frozenset(),
                 terms: set[str] | None = None):
        """`terms`: the two-character words that may be corrected to (business nouns, not answer words like
        "不要", which sound like too much ordinary speech); by default every two-character phrase."""
        self.vocabulary = {v for v in vocabulary if _is_cjk(v) and 2 <= len(v) <= 10}
        self.known_words = known_words
        self.terms = terms if terms is not None else {v for v in self.vocabulary if len(v) <= 3}
        self.guards = {w for w in known_words if len(w) >= 2} | self.vocabulary
        self.two: dict[tuple[str, ...], list[str]] = {}
        self.long: dict[tuple[str, ...], list[str]] = {}
        for phrase in sorted(self.vocabulary):
            if len(phrase) == 2:
                if terms is not None and phrase not in terms:
                    continue
                self.two.setdefault(usual_sound(phrase), []).append(phrase)
            else:
                self.long.setdefault(usual_sound(phrase, fold=True), []).append(phrase)
        self.lengths = sorted({len(v) for v in self.vocabulary}, reverse=True)

    def correct(self, text: str, changes: list[Change] | None = None) -> str:
        changes = changes if changes is not None else []
        used = [False] * len(text)
        replacements: list[tuple[int, int, str]] = []
        plain = [readings(c) for c in text]
        folded = [readings(c, fold=True) for c in text]
        for length in self.lengths:
            for i in range(len(text) - length + 1):
                if any(used[i:i + length]):
                    continue
                span = text[i:i + length]
                if not _is_cjk(span):
                    continue
                phrase = self._candidate(span, plain[i:i + length], folded[i:i + length])
                if phrase is None or self._breaks_a_word(text, i, i + length, phrase):
                    continue
                replacements.append((i, i + length, phrase))
                for j in range(i, i + length):
                    used[j] = True
        for start, end, phrase in sorted(replacements, reverse=True):
            changes.append(Change("sound", text[start:end], phrase))
            text = text[:start] + phrase + text[end:]
        return text

    def _mends_a_term(self, span: str, phrase: str) -> bool:
        changed = [k for k, (a, b) in enumerate(zip(span, phrase, strict=True)) if a != b]
        return all(any(phrase[x:y] in self.terms for x in range(max(0, k - 5), k + 1)
                       for y in range(k + 1, min(len(phrase), x + 6) + 1) if y - x >= 2) for k in changed)

    def _changes_a_phrase(self, span: str, phrase: str) -> bool:
        """"阿妈过身" is not "阿嫲过身": a changed character inside a catalog phrase of its own was said right."""
        for k, (a, b) in enumerate(zip(span, phrase, strict=True)):
            if a != b and any(span[x:y] in self.vocabulary for x in range(max(0, k - 3), k + 1)
                              for y in range(k + 1, min(len(span), x + 4) + 1) if y - x >= 2):
                return True
        return False

    def _breaks_a_word(self, text: str, start: int, end: int, phrase: str) -> bool:
        """A word across the span's edge ("不吉利", "有冇名额") was said right, unless the corrected text makes
        a catalog phrase that covers both ("住销户口" -> "注销户口")."""
        fixed = text[:start] + phrase + text[end:]
        for a in range(max(0, start - 5), end):
            for b in range(a + 2, min(len(text), a + 6) + 1):
                if not (a < start < b or a < end < b) or text[a:b] not in self.guards:
                    continue
                lo, hi = min(a, start), max(b, end)
                if not any(fixed[x:y] in self.vocabulary for x in range(0, lo + 1)
                           for y in range(hi, min(len(fixed), x + 10) + 1)):
                    return True
        return False

    def _candidate(self, span: str, plain: list[tuple[str, ...]], folded: list[tuple[str, ...]]) -> str | None:
        """The one catalog term the span sounds like. A term is heard by its usual reading, the span by any of
        its characters' readings: "户口薄" (báo, bù) is 户口簿 (bù); "没户口" (méi, mò) is not 无户口 (wú)."""
        if span in self.vocabulary:
            return None
        if len(span) == 2:
            if span in self.known_words:
                return None
            options = [p for key in reading_keys(plain) for p in self.two.get(key, [])]
        else:
            if span in self.known_words and len(span) <= 3:
                return None
            options = [p for key in reading_keys(folded) for p in self.long.get(key, [])]
        options = list(dict.fromkeys(options))
        options = [p for p in options if not self._changes_a_phrase(span, p)]
        options = [p for p in options if p != span and sum(a == b for a, b in zip(p, span, strict=True)) >= 1]
        if len(span) > 2:  # a correction must mend a business noun, not a particle ("办的居住证" is right)
            options = [p for p in options if self._mends_a_term(span, p)]
        if len(span) > 3:  # longer terms: at least half the characters right, as the matcher requires
            options = [p for p in options if sum(a == b for a, b in zip(p, span, strict=True)) * 2 >= len(span)]
        return options[0] if len(options) == 1 else None  # two terms that sound alike: do not guess


@lru_cache(maxsize=1)
def plain_jieba():
    """jieba with its default dictionary only: in the Rasa process the global one also holds every catalog
    phrase as a word (bot/nlu/tokenizer.py), which would hide the nouns the phrases are made of."""
    import jieba

    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@lru_cache(maxsize=1)
def jieba_words() -> frozenset[str]:
    """Words of jieba's own dictionary (not the catalog's): a span that is a word was probably said right."""
    return frozenset(w for w, f in plain_jieba().FREQ.items() if f > 0 and 2 <= len(w) <= 3)


class Normalizer:
    def __init__(self, corrector: SoundCorrector):
        self.corrector = corrector

    @classmethod
    def for_catalog(cls, catalog) -> Normalizer:
        return cls(SoundCorrector(catalog_vocabulary(catalog), jieba_words(), catalog_terms(catalog)))

    def normalize(self, text: str) -> Normalized:
        original = text
        changes: list[Change] = []
        text = (text or "")[:MAX_CHARS]
        text = remove_fillers(text, changes)
        text = numerals_to_digits(text, changes)
        text = self.corrector.correct(text, changes)
        return Normalized(text, original, changes)


def catalog_vocabulary(catalog) -> list[str]:
    """Keywords, answer phrases, category names, option labels, and the nouns the phrases are built from
    (身份证, 户口, 居住证: jieba words found in at least three phrases)."""
    from bot.nlu.matcher import catalog_patterns

    words = set(catalog_patterns(catalog))
    for info in catalog.categories:
        words.add(info.name)
    for tree in catalog.trees.values():
        for q in tree.questions:
            words.update(o.label for o in q.options)
    words.update(_inner_words(words))
    words.update(material_nouns(catalog))
    return sorted(w for w in words if _is_cjk(w))


DOCUMENT_ENDINGS = tuple("证书明簿本表卡照单函件信告同据")  # how the name of a document ends (…证, …证明, …合同)
TITLE = re.compile(r"《([^《》]{2,12})》")
BRACKETS = re.compile(r"（[^（）]*）|\([^()]*\)|[《》]")


@lru_cache(maxsize=4)
def _material_nouns(catalog_id: int, names: tuple[str, ...]) -> frozenset[str]:
    nouns: set[str] = set()
    for name in names:
        nouns.update(BRACKETS.sub("", title) for title in TITLE.findall(name))
        bare = BRACKETS.sub("", name)
        for part in re.split(r"[或和及、，；]", bare):
            tail = part.rsplit("的", 1)[-1]  # "随其落户一方的居民户口簿" -> "居民户口簿"
            if 3 <= len(tail) <= 8 and _is_cjk(tail) and tail.endswith(DOCUMENT_ENDINGS):
                nouns.add(tail)
    return frozenset(nouns)


def material_nouns(catalog) -> frozenset[str]:
    """The documents the checklists name, as a caller says them: 出生医学证明, 结婚证, 居民户口簿 (the titles in
    《》 and the noun that ends each name), read from the catalog's materials."""
    names = []
    for tree in catalog.trees.values():
        items = [i for s in tree.scenarios for i in s.materials] + [i for e in tree.extras for i in e.materials]
        for item in items:
            names += [a.name for a in getattr(item, "alternatives", [item])]
    return _material_nouns(id(catalog), tuple(sorted(set(names))))


def _inner_words(phrases: set[str], at_least: int = 3) -> set[str]:
    jieba = plain_jieba()
    inside: dict[str, int] = {}
    for phrase in phrases:
        for w in set(jieba.lcut(phrase)):
            inside[w] = inside.get(w, 0) + 1
    return {w for w, n in inside.items() if n >= at_least and len(w) >= 2 and _is_cjk(w)}


def catalog_terms(catalog) -> set[str]:
    """Business nouns a two-character slip may be corrected to: category names and keywords and the words
    the catalog's phrases are built from; not answer words ("不要", "交了") that sound like ordinary speech."""
    terms = {info.name for info in catalog.categories} | {k for info in catalog.categories for k in info.keywords}
    terms |= _inner_words(set(terms), at_least=2)
    terms |= material_nouns(catalog)
    return {t for t in terms if _is_cjk(t)}


@lru_cache(maxsize=1)
def default_normalizer() -> Normalizer:
    from bot.catalog.loader import load_valid_catalog
    from bot.settings import SCENARIOS_DIR

    return Normalizer.for_catalog(load_valid_catalog(SCENARIOS_DIR))
