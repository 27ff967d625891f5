"""Renders the notice and the forms as HTML pages (the PDF is made from the very same page)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
import markupsafe

from bot.catalog.model import Template
from bot.consult import render
from bot.documents import forms
from bot.documents.notice import Notice
from bot.documents.pdf import font_face_css
from bot.settings import HOTLINE

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
VARIANT_LABELS = {"blank": "空白表", "sample": "样表（填写示例）", "prefilled": "预填表"}
VERDICTS = {"eligible": "✓ 可以办理", "conditional": "！满足条件后可以办理", "ineligible": "× 这种情况不能按本业务办理"}


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    # trusted, and must not be HTML-escaped inside <style>
    css = markupsafe.Markup((TEMPLATE_DIR / "base.css").read_text(encoding="utf-8"))
    env.globals.update(css=css, fonts=markupsafe.Markup(font_face_css()),
                       forms=render.FORM_LABELS, hotline=HOTLINE, extra_text=render.extra_text,
                       reliability=render.RELIABILITY_NOTES)
    return env


def notice_html(notice: Notice) -> str:
    return _environment().get_template("notice.html.j2").render(
        n=notice, verdict=VERDICTS.get(notice.scenario.verdict, notice.scenario.verdict))


def form_html(t: Template, variant: forms.Variant, paragraphs: list[list[forms.Piece]], prefilled: int,
              links: list[tuple[str, str]]) -> str:
    return _environment().get_template("form.html.j2").render(
        t=t, variant=variant, variant_label=VARIANT_LABELS[variant], paragraphs=paragraphs, prefilled=prefilled,
        links=links, sample_signature=_sample_signer(t))


def _sample_signer(t: Template) -> str:
    """The example name of the form's first person, so the 样表 signature matches its body."""
    person = next((f for f in t.fields if f.label.endswith("姓名")), None)
    return person.example if person else "张某某"
