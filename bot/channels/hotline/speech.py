"""What the hotline reads aloud: short, in spoken order, ending with a question answered by voice or keypad.

The screen channels' replies carry emoji, links, tables of materials and many buttons. On the phone: at most
about 60 characters before the question, the checklist as "需要带四样东西：一、…；二、…" (in pages when it is long),
the full list sent by SMS, and each choice read with its keypad digit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cn2an

from bot.catalog.model import ChoiceGroup, Scenario

PREFACE_LIMIT = 60  # characters read before the question
MAX_CHOICES = 5
URL = re.compile(r"https?://\S+")
SYMBOLS = re.compile(r"[\U0001F000-\U0001FFFF\u2600-\u27BF\u2B00-\u2BFF\uFE0F【】「」《》*#>|_`]")
BRACKETED = re.compile(r"（[^（）]*）|\([^()]*\)")
SENTENCE = re.compile(r"[^。！？!?\n]+[。！？!?]?")
# buttons that only make sense on a screen; the SMS carries the notice sheet and the forms
SCREEN_ONLY = ("/show_template", "/print_notice")
VERDICTS = {"eligible": "可以办理", "conditional": "满足条件后可以办理", "ineligible": "这种情况不能按这项业务办理"}


@dataclass(frozen=True)
class Choice:
    key: str
    say: str
    payload: str

    def public(self) -> dict:
        return {"key": self.key, "say": self.say}


def plain(text: str) -> str:
    """Text as it can be read aloud: no emoji, brackets, links or list markup."""
    text = URL.sub("", text or "")
    text = SYMBOLS.sub("", text)
    text = re.sub(r"^\s*[·•\-]\s*", "", text, flags=re.M)
    text = re.sub(r"[ \t]+", "", text)
    text = re.sub(r"[：:]\s*$", "", text, flags=re.M)
    return text.strip()


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE.findall(plain(text)) if s.strip()]


def split_question(text: str) -> tuple[str, str]:
    """(what comes before, the question): the question is the last sentence asking something."""
    parts = sentences(text)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].endswith(("？", "?")) or "请问" in parts[i]:
            return "".join(parts[:i]), parts[i]
    if len(parts) > 1 and parts[-1].startswith("请"):  # "请告诉我您的姓名。"
        return "".join(parts[:-1]), parts[-1]
    return "".join(parts), ""


def shorten(text: str, limit: int = PREFACE_LIMIT) -> str:
    """Whole sentences from the start up to `limit` characters; the first one cut at a comma if need be."""
    out = ""
    for s in SENTENCE.findall(text):
        if len(out) + len(s) > limit:
            break
        out += s
    if not out and text:
        cut = text[:limit]
        comma = max(cut.rfind("，"), cut.rfind("；"))
        out = (cut[:comma] if comma > limit // 2 else cut).rstrip("，；、") + "。"
    return out


def choices_from(buttons: list[dict]) -> list[Choice]:
    usable = [b for b in buttons if b.get("payload") and not str(b["payload"]).startswith(SCREEN_ONLY)]
    return [Choice(str(n), plain(b.get("title") or "").rstrip("。") or f"选项{n}", str(b["payload"]))
            for n, b in enumerate(usable[:MAX_CHOICES], 1)]


def read_choices(choices: list[Choice]) -> str:
    if not choices:
        return ""
    return "请说出选项或按键：" + "；".join(f"{c.say}请按{c.key}" for c in choices) + "。"


def number(n: int) -> str:
    return cn2an.an2cn(n) if n != 2 else "两"


def ordinal(n: int) -> str:
    return cn2an.an2cn(n)


def material_names(s: Scenario) -> list[str]:
    names = []
    for item in s.materials:
        if isinstance(item, ChoiceGroup):
            names.append("或".join(BRACKETED.sub("", a.name) for a in item.alternatives[:3]))
        else:
            names.append(BRACKETED.sub("", item.name))
    return [n for n in names if n]


def checklist_pages(s: Scenario, limit: int = PREFACE_LIMIT) -> list[str]:
    """The checklist in spoken pages of about `limit` characters: "需要带四样东西：一、…；二、…。"."""
    names = material_names(s)
    if not names:
        return ["不需要带材料。"]
    pages: list[str] = []
    current = f"需要带{number(len(names))}样东西："
    for i, name in enumerate(names, 1):
        piece = f"{ordinal(i)}、{name}；"
        if len(current) + len(piece) > limit and not current.endswith("："):
            pages.append(current.rstrip("；") + "。")
            current = ""
        current += piece
    pages.append(current.rstrip("；") + "。")
    return pages


def verdict_line(s: Scenario, category_name: str) -> str:
    verdict = VERDICTS.get(s.verdict, "")
    name = category_name if len(category_name) <= 12 else s.title
    if s.verdict == "ineligible":
        return f"{name}：{verdict}。{shorten(s.reason, 40)}"
    return f"{name}，{verdict}。"
