"""Finds catalog phrases written with the wrong characters but the right sound.

Speech recognizers on the hotline (and hurried typists) write "户口薄" for 户口簿 or "出生医学正明" for
出生医学证明. Phrases are compared by toneless pinyin, with the initials and finals that southern speakers
merge (zh/z, ch/c, sh/s, n/l, -ing/-in, -eng/-en) folded together; at least half of the characters must
still be the same, so that unrelated words that merely sound alike are not taken.
"""

from __future__ import annotations

from functools import lru_cache

from pypinyin import Style, pinyin

MIN_LENGTH = 3  # shorter phrases sound like too many other words
MAX_SCAN = 2000  # characters of a message examined; longer input is garbage or a paste
FOLDS = (("zh", "z"), ("ch", "c"), ("sh", "s"))


def fold(syllable: str) -> str:
    """A toneless syllable with the initials and finals southern speakers merge folded (zh/z, n/l, -ing/-in)."""
    for long, short in FOLDS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long):]
            break
    if syllable.startswith("l"):
        syllable = "n" + syllable[1:]
    return syllable[:-1] if syllable.endswith(("ing", "eng")) else syllable


@lru_cache(maxsize=8192)
def _sound(char: str) -> str:
    if not ("\u4e00" <= char <= "\u9fff"):
        return char
    return fold(pinyin(char, style=Style.NORMAL, heteronym=False)[0][0])


def sounds(text: str) -> tuple[str, ...]:
    return tuple(_sound(c) for c in text)


class SoundAlikeIndex:
    def __init__(self, phrases: list[str]):
        self.by_sound: dict[tuple[str, ...], str] = {}
        for phrase in phrases:
            if len(phrase) >= MIN_LENGTH and all("\u4e00" <= c <= "\u9fff" for c in phrase):
                self.by_sound.setdefault(sounds(phrase), phrase)
        self.lengths = sorted({len(k) for k in self.by_sound}, reverse=True)

    def find(self, text: str, taken: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
        """(start, end, catalog phrase) for sound-alike spans outside `taken`, longest first."""
        text = text[:MAX_SCAN]
        heard = sounds(text)
        used = [False] * len(text)
        for start, end in taken:
            for i in range(max(0, start), min(end, len(text))):
                used[i] = True
        found = []
        for length in self.lengths:
            for i in range(len(text) - length + 1):
                if any(used[i:i + length]):
                    continue
                phrase = self.by_sound.get(heard[i:i + length])
                if phrase is None or phrase == text[i:i + length]:
                    continue
                if sum(a == b for a, b in zip(phrase, text[i:i + length], strict=True)) * 2 < length:
                    continue
                found.append((i, i + length, phrase))
                for j in range(i, i + length):
                    used[j] = True
        return found
