"""What the hotline remembers about a call between turns, and how a spoken reply is read back to it."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import cn2an

from bot.channels.hotline.speech import Choice

CALL_TTL = 3600.0  # a call's state is forgotten an hour after its last turn
HUMAN_WORDS = ("转人工", "人工服务", "人工客服", "找民警", "找警察", "真人", "人工", "转接民警")
YES = ("对", "对的", "是", "是的", "没错", "对啊", "是啊", "嗯对", "好", "好的", "系", "系啊", "啱", "可以", "对对")
NO = ("不对", "不是", "错了", "唔系", "唔啱", "不", "没有", "不对不对")
BYE = ("再见", "拜拜", "没有了", "没事了", "挂了", "好的谢谢", "谢谢再见", "不用了")
ORDINAL = re.compile(r"^(?:第|选|按|选择)?([0-9一二两三四五六七八九])(?:个|号|项)?$")
PUNCT = re.compile(r"[\s，。,.!！?？、~～]+")


@dataclass
class CallState:
    call_id: str
    choices: list[Choice] = field(default_factory=list)
    failures: int = 0
    pending: str | None = None  # what was heard with low confidence, waiting for "对" or "不对"
    pages: list[str] = field(default_factory=list)  # checklist pages still to read
    after_pages: tuple[str, list[Choice]] = ("", [])  # the question and choices once the pages are read
    heard: list[str] = field(default_factory=list)
    sms_sent_for: str | None = None  # the scenario whose list went by SMS
    touched: float = field(default_factory=time.monotonic)


class Calls:
    def __init__(self) -> None:
        self._calls: dict[str, CallState] = {}

    def get(self, call_id: str) -> CallState:
        now = time.monotonic()
        for old in [k for k, v in self._calls.items() if now - v.touched > CALL_TTL]:
            del self._calls[old]
        state = self._calls.setdefault(call_id, CallState(call_id))
        state.touched = now
        return state


def bare(text: str) -> str:
    return PUNCT.sub("", text or "")


def wants_person(text: str) -> bool:
    return any(w in bare(text) for w in HUMAN_WORDS)


def is_yes(text: str) -> bool:
    t = bare(text).lstrip("嗯啊哦").rstrip("啊呀的吧") or bare(text)
    return t in YES or bare(text) in YES


def is_no(text: str) -> bool:
    return bare(text) in NO or bare(text).startswith(("不对", "不是", "唔系"))


def is_goodbye(text: str) -> bool:
    return bare(text) in BYE


def pick(text: str, choices: list[Choice]) -> Choice | None:
    """The choice the caller named: its digit ("1", "一", "第一个", "按1"), or its label said in the text."""
    said = bare(text)
    if not said or not choices:
        return None
    m = ORDINAL.match(said)
    if m:
        digit = m.group(1)
        n = int(digit) if digit.isdigit() else int(cn2an.cn2an(digit, "smart"))
        return next((c for c in choices if c.key == str(n)), None)
    if said in ("最后一个", "最后那个"):
        return choices[-1]
    exact = [c for c in choices if bare(c.say) == said]
    if exact:
        return exact[0]
    named = [c for c in choices if len(bare(c.say)) >= 2 and (bare(c.say) in said or
                                                              (len(said) >= 2 and said in bare(c.say)))]
    return named[0] if len(named) == 1 else None
