"""The notice sheet and the forms render as HTML and as A4 PDFs that embed their font and print readably."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import io
import re
from collections.abc import AsyncIterator
from functools import lru_cache
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from bot.api.app import create_app
from bot.catalog.model import Catalog, ChoiceGroup, Scenario
from bot.documents import forms
from bot.documents.html import form_html, notice_html
from bot.documents.notice import build_notice
from bot.documents.pdf import FONT_DIR, FONT_FILES, html_to_pdf
from bot.halls import hours

TODAY = dt.date(2026, 12, 1)
BASE = "http://localhost:5080"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def page_text(html: str) -> str:
    """The words a reader sees: no tags, no style sheet."""
    body = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", body))


def pdf_text(pdf: bytes) -> str:
    """All pages' text in content order (WeasyPrint writes it in reading order, cell by cell)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    return "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def embedded_fonts(pdf: bytes) -> list[str]:
    """BaseFont names of the fonts whose program is inside the file (what `pdffonts` lists as emb yes)."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import resolve1

    document = PDFDocument(PDFParser(io.BytesIO(pdf)))
    names = []
    for xref in document.xrefs:
        for objid in xref.get_objids():
            try:
                obj = resolve1(document.getobj(objid))
            except Exception:  # noqa: BLE001 - free or compressed slots hold no font
                continue
            if isinstance(obj, dict) and any(k in obj for k in ("FontFile", "FontFile2", "FontFile3")):
                names.append(str(resolve1(obj.get("FontName"))))
    return names


def ink_ratio(pdf: bytes) -> float:
    """Share of dark pixels on the first page, rendered like pdftoppm would."""
    import pypdfium2 as pdfium

    image = pdfium.PdfDocument(pdf)[0].render(scale=0.5).to_pil().convert("L")
    pixels = list(image.getdata())
    return sum(1 for p in pixels if p < 128) / len(pixels)


@lru_cache(maxsize=1)
def font_characters() -> frozenset[str]:
    from fontTools.ttLib import TTFont

    chars: set[str] = set()
    for name in FONT_FILES.values():
        chars |= {chr(c) for c in TTFont(FONT_DIR / name).getBestCmap()}
    return frozenset(chars)


def material_names(s: Scenario) -> list[str]:
    return [a.name for item in s.materials
            for a in (item.alternatives if isinstance(item, ChoiceGroup) else [item])]


def scenarios(catalog: Catalog) -> list[Scenario]:
    return [s for tree in catalog.trees.values() for s in tree.scenarios]


def sample_scenarios(catalog: Catalog) -> list[Scenario]:
    """One scenario per category (the one with the longest checklist) and every ineligible kind once."""
    picked = [max(tree.scenarios, key=lambda s: len(material_names(s))) for tree in catalog.trees.values()]
    return picked + [next(s for s in scenarios(catalog) if s.verdict == "ineligible")]


def notice_of(catalog: Catalog, s: Scenario, district: str | None = "天河") -> str:
    return notice_html(build_notice(catalog, s, [], answers=dict((q, o[0]) for q, o in s.when.items()),
                                    district=district, base_url=BASE, today=TODAY))


def test_every_scenario_notice_lists_its_whole_checklist_in_fonts_that_have_every_character(
        catalog: Catalog) -> None:
    missing: dict[str, set[str]] = {}
    for s in scenarios(catalog):
        text = page_text(notice_of(catalog, s))
        assert s.title in text and s.reason in text
        for name in material_names(s):
            assert name in text, f"{s.id}: {name}"
        lacking = {c for c in squash(text) if c not in font_characters()}
        if lacking:
            missing[s.id] = lacking
    assert not missing, f"run bot/documents/make_fonts.py: the fonts lack {dict(list(missing.items())[:5])}"


@pytest.mark.parametrize("variant", forms.VARIANTS)
def test_every_form_renders_in_every_variant(catalog: Catalog, variant: str) -> None:
    for t in catalog.templates.values():
        trees = catalog.trees_using(t.id)
        paragraphs = forms.paragraphs(t, variant, {}, trees, "天河")  # type: ignore[arg-type]
        text = page_text(form_html(t, variant, paragraphs, 0, []))  # type: ignore[arg-type]
        assert t.name.strip("《》") in text
        labels = {f.label for f in t.fields}
        assert all(label in text for label in labels), "every blank carries its label"
        if variant == "sample":
            assert all(f.example in text for f in t.fields) and "样表" in text
        else:
            assert "样表" not in text.replace("样表（填写示例）", "")
        assert not {c for c in squash(text) if c not in font_characters()}, t.id


def test_prefill_uses_the_answers_but_never_touches_personal_fields(catalog: Catalog) -> None:
    t = catalog.templates["birth_application"]
    trees = catalog.trees_using(t.id)
    pieces = [p for line in forms.paragraphs(t, "prefilled", {"register_with": "father", "marital": "married"},
                                             trees, "天河") for p in line if p.field]
    filled = {p.field.id: p.filled for p in pieces if p.filled}
    assert filled["relation"] == "父亲" and filled["register_with"] == "父亲"
    assert filled["marital"] == catalog.trees["birth"].question("marital").option("married").label
    assert not any(p.filled for p in pieces if p.field.id in ("applicant", "applicant_id", "phone", "child"))


def test_sample_notice_pdfs_carry_the_checklist_and_embed_the_chinese_font(catalog: Catalog) -> None:
    for s in sample_scenarios(catalog):
        pdf = html_to_pdf(notice_of(catalog, s))
        assert pdf.startswith(b"%PDF")
        text = squash(pdf_text(pdf))
        assert "下载PDF" not in text, "the screen's buttons are not printed"
        assert squash(s.title) in text
        for name in material_names(s):
            assert squash(name) in text, f"{s.id}: {name} not in the PDF text"
        fonts = embedded_fonts(pdf)
        assert fonts and all(f.split("+")[-1].strip("'") in ("HujiSans", "HujiSans-Bold") for f in fonts), fonts
        assert ink_ratio(pdf) > 0.01, "the first page is not blank"


def test_every_form_prints_as_a_pdf_with_its_font(catalog: Catalog) -> None:
    for t in catalog.templates.values():
        paragraphs = forms.paragraphs(t, "sample", {}, catalog.trees_using(t.id), None)
        pdf = html_to_pdf(form_html(t, "sample", paragraphs, 0, []))
        text = squash(pdf_text(pdf))
        assert squash(t.name.strip("《》")) in text, t.id
        assert squash(t.fields[0].example) in text, t.id
        assert "下载PDF" not in text, "the screen's buttons are not printed"
        assert embedded_fonts(pdf), t.id
        assert ink_ratio(pdf) > 0.005, t.id


def test_the_notice_names_halls_of_the_district_and_the_extras(catalog: Catalog) -> None:
    s = catalog.trees["birth"].scenario("birth_married_in_time")
    notice = build_notice(catalog, s, ["ethnicity_different"], answers={"marital": "married"}, district="天河",
                          base_url=BASE, today=TODAY)
    assert notice.halls and all(h.district in ("天河", "越秀", "海珠", "白云", "黄埔") for h in notice.halls)
    assert notice.halls[0].district == "天河" and all(h.accepts("birth") for h in notice.halls)
    text = page_text(notice_html(notice))
    extra = next(e for e in catalog.trees["birth"].extras if e.id == "ethnicity_different")
    assert all(m.name in text for m in extra.materials), "the extra's materials join the checklist"
    assert notice.halls[0].address in text and "生成日期：2026-12-01" in text
    assert "ethnicity_different" not in {e.id for _, e in notice.possible}


@pytest_asyncio.fixture()
async def client(catalog: Catalog, tmp_path: Path) -> AsyncIterator[TestClient]:
    app = create_app(catalog, booking_url=f"sqlite:///{tmp_path / 'b.sqlite3'}", queue_secret="t",
                     clock=lambda: dt.datetime(2026, 12, 1, 10, 0, tzinfo=hours.TZ))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


@pytest.mark.asyncio
async def test_routes_serve_html_and_pdf_and_answer_unknown_ids_with_json_404(client: TestClient) -> None:
    r = await client.get("/api/scenarios/birth_married_in_time/notice",
                         params={"district": "天河区", "answers": "marital:married,bogus:x"})
    assert r.status == 200 and r.content_type == "text/html" and "已登记结婚" in await r.text()
    r = await client.get("/api/scenarios/birth_married_in_time/notice.pdf")
    assert r.status == 200 and r.content_type == "application/pdf" and (await r.read()).startswith(b"%PDF")
    r = await client.get("/api/templates/birth_application", params={"variant": "sample"})
    assert r.status == 200 and "样表" in await r.text()
    r = await client.get("/api/templates/birth_application.pdf", params={"variant": "blank"})
    assert r.status == 200 and (await r.read()).startswith(b"%PDF")
    for path in ("/api/scenarios/no_such/notice", "/api/scenarios/no_such/notice.pdf",
                 "/api/templates/no_such", "/api/templates/no_such.pdf"):
        r = await client.get(path)
        assert r.status == 404 and (await r.json())["error"]["code"].endswith("not_found"), path
    for path, params in (("/api/templates/birth_application", {"variant": "filled"}),
                         ("/api/scenarios/birth_married_in_time/notice", {"district": "北京"}),
                         ("/api/scenarios/birth_married_in_time/notice", {"extras": "no_such_extra"}),
                         ("/api/scenarios/birth_married_in_time/notice", {"answers": "x" * 5000})):
        r = await client.get(path, params=params)
        assert r.status == 422 and "error" in await r.json(), (path, params)
