"""Reads scenarios/outside.yml: questions that are not household registration, and who handles them instead.

Staff edit that file like the scenarios. A topic is recognised by its keywords (any one, and, when `with` is given,
also one of those words); the assistant answers with its `reply` instead of starting a consultation. A topic with
`choices` (house purchase) points to the catalog's businesses that do apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.catalog.loader import _line, _Reader, _text, _texts
from bot.catalog.problems import Problem
from bot.nlu.matcher import negated_at

OUTSIDE_FILE = "outside.yml"


@dataclass(frozen=True)
class Topic:
    code: str
    name: str
    keywords: tuple[str, ...]
    reply: str
    examples: tuple[str, ...] = ()
    with_words: tuple[str, ...] = ()  # when set, a keyword counts only together with one of these
    choices: tuple[str, ...] = ()  # category codes offered after the reply
    # answered even when the message also names a business ("买房想迁户口" names 户口迁移 but asks about buying)
    over_business: bool = False
    line: int = 0

    def found_in(self, text: str) -> bool:
        """A keyword said, not denied ("我没买房" does not ask about buying), with one of `with_words` if any."""
        said = any(not negated_at(text, m.start(), k) for k in self.keywords for m in re.finditer(re.escape(k), text))
        return said and (not self.with_words or any(w in text for w in self.with_words))


def load_topics(directory: Path, codes: set[str] | None = None) -> tuple[list[Topic], list[Problem]]:
    path = directory / OUTSIDE_FILE
    if not path.exists():
        return [], []
    reader = _Reader(str(path))
    doc = reader.mapping(reader.load(path) or {}, OUTSIDE_FILE, 1)
    topics: list[Topic] = []
    for node in reader.seq(doc.get("topics"), "topics", 1):
        node = reader.mapping(node, "topic", 1)
        code = reader.required(node, "code", "")
        # YAML folds a long reply's lines with spaces, which Chinese text must not have
        reply = re.sub(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])", "", reader.required(node, "reply", code))
        topic = Topic(code, reader.required(node, "name", code), tuple(_texts(node.get("keywords"))), reply,
                      tuple(_texts(node.get("examples"))),
                      tuple(_texts(node.get("with"))), tuple(_texts(node.get("choices"))),
                      bool(node.get("over_business")), _line(node))
        if not topic.keywords:
            reader.problem(topic.line, "missing-field", "话题至少要有一个 keywords 关键词", code)
        if any(t.code == code for t in topics):
            reader.problem(topic.line, "duplicate-id", f"话题 `{code}` 重复", code)
        for choice in topic.choices:
            if codes is not None and choice not in codes:
                reader.problem(_line(node, "choices"), "unknown-category",
                               f"choices 中的 `{choice}` 不是已有分类", code)
        if len(_text(node.get("reply"))) > 200:
            reader.problem(_line(node, "reply"), "too-long", "reply 请控制在 200 字以内（手机一屏）", code)
        topics.append(topic)
    return topics, reader.problems


def topic_in(topics: list[Topic], text: str) -> Topic | None:
    """The first topic (in file order: more specific topics first) the text names."""
    return next((t for t in topics if t.found_in(text)), None)
