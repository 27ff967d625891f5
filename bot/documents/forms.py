"""A form's three variants: blank (lines to fill in by hand), 样表 (a fictitious example) and prefilled.

Prefilling uses only answers the conversation chose from the catalog (option ids such as
`register_with=father`) and the district: never what a citizen typed, so no personal data reaches a URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot.catalog.model import CategoryTree, Template, TemplateField

Variant = Literal["blank", "sample", "prefilled"]
VARIANTS: tuple[str, ...] = ("blank", "sample", "prefilled")
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


@dataclass(frozen=True)
class Piece:
    """A run of the form's text: plain words, or a blank with its label and what (if anything) fills it."""

    text: str
    field: TemplateField | None = None
    filled: str = ""
    example: bool = False  # the filled text is the fictitious 样表 example

    @property
    def width_em(self) -> int:
        """A blank as wide as what people write there (the example), never narrower than its label."""
        return max(4, min(24, max(len(self.field.example), len(self.field.label) // 2 + 2))) if self.field else 0


def prefill_value(f: TemplateField, answers: dict[str, str], trees: list[CategoryTree], district: str | None) -> str:
    if f.fact == "district":
        return f"广州市{district}区" if district else ""
    option_id = answers.get(f.fact, "")
    if not option_id or "|" in option_id:
        return ""
    if option_id in f.values:
        return f.values[option_id]
    for tree in trees:
        question = tree.question(f.fact)
        option = question.option(option_id) if question else None
        if option is not None:
            return option.label
    return ""


def paragraphs(t: Template, variant: Variant, answers: dict[str, str] | None = None,
               trees: list[CategoryTree] | None = None, district: str | None = None) -> list[list[Piece]]:
    """The body, line by line, as text and blanks."""
    out = []
    for line in t.body.splitlines():
        pieces: list[Piece] = []
        last = 0
        for m in PLACEHOLDER.finditer(line):
            if m.start() > last:
                pieces.append(Piece(line[last:m.start()]))
            f = t.field(m.group(1))
            if f is None:  # the validator forbids this; render the raw text rather than fail
                pieces.append(Piece(m.group(0)))
            elif variant == "sample":
                pieces.append(Piece("", f, f.example, example=True))
            elif variant == "prefilled" and f.fact:
                pieces.append(Piece("", f, prefill_value(f, answers or {}, trees or [], district)))
            else:
                pieces.append(Piece("", f))
            last = m.end()
        if last < len(line):
            pieces.append(Piece(line[last:]))
        out.append(pieces)
    return out


def prefilled_count(t: Template, answers: dict[str, str], trees: list[CategoryTree], district: str | None) -> int:
    return sum(1 for f in t.fields if f.fact and prefill_value(f, answers, trees, district))
