"""What the hotline reads aloud: short, in spoken order, ending with a question answered by voice or keypad.

The screen channels' replies carry emoji, links, tables of materials and many buttons. On the phone: at most
about 60 characters before the question, the checklist as "需要带四样东西：一、…；二、…" (in pages when it is long),
the full list sent by SMS, and each choice read with its keypad digit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import cn2an

from bot.catalog.model import ChecklistItem, ChoiceGroup, Extra, Scenario

PREFACE_LIMIT = 60  # characters read before the question
MAX_CHOICES = 5
MAX_EXTRA_CHOICES = 3  # conditional extras offered by keypad; the others are in the SMS
ALTERNATIVES_LIMIT = 24  # "A或B" read in full up to this length, else "A等三种中的一种"
SMS_SENT = "完整清单和一次性告知单已经用短信发给您。"
SMS_UPDATED = "更新后的清单已经用短信发给您。"
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


MORE_CHOICE = Choice("1", "继续听", "@more")


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
    if not out and text:  # the first sentence is too long: cut it at a pause, leaving room for the full stop
        cut = text[:max(1, limit - 1)]
        pause = max(cut.rfind("，"), cut.rfind("；"), cut.rfind("、"))
        out = (cut[:pause] if pause >= 6 else cut).rstrip("，；、") + "。"
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


def spoken_item(item: ChecklistItem, limit: int = ALTERNATIVES_LIMIT) -> str:
    """A checklist line as it is said: no brackets or book-title marks; a long "任选其一" by its first choice."""
    if isinstance(item, ChoiceGroup):
        names = [plain(BRACKETED.sub("", a.name)) for a in item.alternatives]
        names = [n for n in names if n]
        joined = "或".join(names)
        if len(names) <= 1 or len(joined) <= limit:
            return joined
        return f"{names[0]}等{number(len(names))}种中的一种"
    return plain(BRACKETED.sub("", item.name))


def material_names(s: Scenario, extras: Sequence[Extra] = ()) -> list[str]:
    items = list(s.materials) + [m for e in extras for m in e.materials]
    return [n for n in map(spoken_item, items) if n]


def pack(pieces: list[str], limit: int = PREFACE_LIMIT) -> list[str]:
    """Pieces in order, as few spoken pages of at most `limit` characters as they fit in (a piece is never cut)."""
    pages: list[str] = []
    for piece in pieces:
        if pages and len(pages[-1]) + len(piece) <= limit:
            pages[-1] += piece
        else:
            pages.append(piece)
    return pages


def checklist_pieces(names: list[str], lead: str = "需要带") -> list[str]:
    """"需要带四样东西：一、…；" "二、…；" … "四、…。": the header stays with the first item."""
    if not names:
        return []
    pieces = [f"{ordinal(i)}、{name}" + ("。" if i == len(names) else "；") for i, name in enumerate(names, 1)]
    pieces[0] = f"{lead}{number(len(names))}样东西：" + pieces[0]
    return pieces


def checklist_pages(s: Scenario, limit: int = PREFACE_LIMIT) -> list[str]:
    """The checklist alone in spoken pages of at most `limit` characters: "需要带四样东西：一、…；二、…。"."""
    return pack(checklist_pieces(material_names(s)) or ["不需要带材料。"], limit)


def scenario_pages(s: Scenario, category_name: str, extras: Sequence[Extra] = (),
                   limit: int = PREFACE_LIMIT) -> tuple[list[str], str]:
    """What is read of a scenario, page by page, each at most `limit` characters before its question: the
    verdict and the checklist with the extras that apply. Also the lead of the last question: that the full
    list went by SMS, unless the last page had room to say so (a page of its own would cost the caller a key)."""
    pieces = [verdict_line(s, category_name, limit)]
    if s.verdict != "ineligible" or s.materials:
        pieces += checklist_pieces(material_names(s, extras)) or ["不需要带材料。"]
    pages = pack(pieces + [SMS_SENT], limit)
    if len(pages) > 1 and pages[-1] == SMS_SENT:
        return pages[:-1], SMS_SENT.rstrip("。") + "，"
    return pages, ""


def extra_pages(label: str, extra: Extra, limit: int = PREFACE_LIMIT) -> tuple[list[str], str]:
    """What a conditional extra adds, once the caller said it applies ("单位或人才市场集体户")."""
    head = f"好的，{label}的情况，"
    names = [n for n in map(spoken_item, extra.materials) if n]
    if names:
        pieces = checklist_pieces(names, lead="还要带")
    else:
        said = sentences("；".join(n.rstrip("。") for n in extra.notes) + "。") or [extra.who_must_come]
        pieces = [shorten(said[0], limit - len(head)) if said and said[0] else "以窗口告知为准。"]
    pieces[0] = head + pieces[0]
    if len(pieces[0]) > limit:  # a long label: say it apart
        pieces = [head.rstrip("，") + "。", pieces[0][len(head):]] + pieces[1:]
    pages = pack(pieces + [SMS_UPDATED], limit)
    if len(pages) > 1 and pages[-1] == SMS_UPDATED:
        return pages[:-1], SMS_UPDATED.rstrip("。") + "，"
    return pages, ""


def verdict_line(s: Scenario, category_name: str, limit: int = PREFACE_LIMIT) -> str:
    verdict = VERDICTS.get(s.verdict, "")
    name = next((n for n in (category_name, s.title) if len(n) <= 12), "")
    if s.verdict == "ineligible":
        head = f"{name}：{verdict}。" if name else f"{verdict}。"
        return head + shorten(plain(s.reason), limit - len(head))
    return f"{name}，{verdict}。" if name else f"{verdict}。"


def extra_choice(label: str, payload: str) -> tuple[str, str]:
    return label.replace("「", "").replace("」", ""), payload


def after_question(extra_choices: list[tuple[str, str]], after: list[Choice],
                   lead: str = "") -> tuple[str, list[Choice]]:
    """The question once a scenario is read (with its choices read out): the conditional extras ("如属以下情况")
    as a spoken choice, then where to go. `lead` opens the question ("…已经用短信发给您，")."""
    if not extra_choices:
        return f"{lead}还需要了解去哪里办吗？" + read_choices(after), after
    shown = extra_choices[:MAX_EXTRA_CHOICES]
    rest = [c for c in after if c.payload.startswith(("/find_hall", "/human_handoff"))]
    choices = [Choice(str(n), say, payload) for n, (say, payload) in enumerate(shown, 1)]
    choices += [Choice(str(len(choices) + n), c.say, c.payload) for n, c in enumerate(rest, 1)]
    more = "其他情况见短信。" if len(extra_choices) > len(shown) else ""
    return f"{lead}有的情况还要多带材料，您属于以下情况吗？{more}" + read_choices(choices), choices


@dataclass(frozen=True)
class Spoken:
    """One turn as read: `preface` (at most PREFACE_LIMIT characters), then the question with its choices."""

    preface: str
    question: str
    choices: list[Choice]

    @property
    def speech(self) -> str:
        return self.preface + self.question


def page_turn(page: str, left: int, final: tuple[str, list[Choice]]) -> Spoken:
    """A page of a long answer: "还有两段，继续听请按1。" until the last, which ends with `final`."""
    if left:
        return Spoken(page, f"还有{number(left)}段，继续听请按1。", [MORE_CHOICE])
    return Spoken(page, *final)


def reading(pages: list[str], final: tuple[str, list[Choice]]) -> list[Spoken]:
    return [page_turn(page, len(pages) - i - 1, final) for i, page in enumerate(pages)]
