"""GET the 一次性告知单 of a scenario and the forms, as HTML pages or A4 PDFs (bot/documents)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.catalog.model import Catalog, Scenario, Template
from bot.documents import forms
from bot.documents.html import VARIANT_LABELS, form_html, notice_html
from bot.documents.notice import build_notice, parse_answer_query, template_link
from bot.documents.pdf import html_to_pdf
from bot.halls.districts import district_names
from bot.settings import public_url

from .context import CATALOG, CLOCK
from .errors import ApiError

routes = web.RouteTableDef()
MAX_QUERY_VALUE = 2000  # longer query values are garbage, not answers


def _scenario_or_404(catalog: Catalog, scenario_id: str) -> Scenario:
    for tree in catalog.trees.values():
        if (scenario := tree.scenario(scenario_id)) is not None:
            return scenario
    raise ApiError(404, "scenario_not_found", "没有找到这个办理情景，请核对情景编号。")


def _template_or_404(catalog: Catalog, template_id: str) -> Template:
    template = catalog.templates.get(template_id)
    if template is None:
        raise ApiError(404, "template_not_found", "没有找到这个表格模板，请核对模板编号。")
    return template


def _query(request: web.Request, name: str) -> str:
    value = request.query.get(name, "")
    if len(value) > MAX_QUERY_VALUE:
        raise ApiError(422, "query_too_long", f"参数 {name} 太长。")
    return value.strip()


def _district(request: web.Request) -> str | None:
    raw = _query(request, "district")
    if not raw:
        return None
    district = district_names().get(raw)
    if district is None:
        raise ApiError(422, "unknown_district", "district 应为广州的一个区，例如 天河 或 天河区。")
    return district


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html", charset="utf-8")


async def _pdf(html: str, filename: str) -> web.Response:
    # WeasyPrint takes about a second of CPU: keep the event loop (and the live queues) responsive
    body = await asyncio.get_running_loop().run_in_executor(None, html_to_pdf, html)
    return web.Response(body=body, content_type="application/pdf",
                        headers={"Content-Disposition": f"inline; filename*=UTF-8''{filename}"})


def _notice_page(request: web.Request) -> tuple[str, str]:
    catalog = request.app[CATALOG]
    scenario = _scenario_or_404(catalog, request.match_info["scenario_id"])
    tree = catalog.trees[scenario.category]
    known_extras = {e.id for e in tree.extras if e.applies_to(scenario)}
    extras = [e for e in _query(request, "extras").split(",") if e]
    if unknown := [e for e in extras if e not in known_extras]:
        raise ApiError(422, "unknown_extra", f"这个情景没有附加情况 `{unknown[0][:40]}`。")
    notice = build_notice(catalog, scenario, extras, answers=parse_answer_query(_query(request, "answers"), tree),
                          district=_district(request), base_url=public_url(), today=request.app[CLOCK]().date())
    return notice_html(notice), scenario.id


def _variant(request: web.Request) -> forms.Variant:
    variant = _query(request, "variant") or "blank"
    if variant not in forms.VARIANTS:
        raise ApiError(422, "unknown_variant", "variant 应为 blank（空白表）、sample（样表）或 prefilled（预填表）。")
    return variant  # type: ignore[return-value]


def _form_page(request: web.Request) -> tuple[str, str]:
    catalog = request.app[CATALOG]
    template = _template_or_404(catalog, request.match_info["template_id"])
    variant = _variant(request)
    trees = catalog.trees_using(template.id)
    answers: dict[str, str] = {}
    for tree in trees:  # answers name questions of the category whose scenario uses this form
        answers.update(parse_answer_query(_query(request, "answers"), tree))
    district = _district(request)
    base = public_url()
    links = [(VARIANT_LABELS[v], template_link(base, template.id, v, answers, district))
             for v in forms.VARIANTS if v != variant and (v != "prefilled" or answers or district)]
    links.append(("下载 PDF", template_link(base, template.id, variant, answers, district, pdf=True)))
    paragraphs = forms.paragraphs(template, variant, answers, trees, district)
    prefilled = forms.prefilled_count(template, answers, trees, district) if variant == "prefilled" else 0
    return form_html(template, variant, paragraphs, prefilled, links), template.id


@routes.get("/api/scenarios/{scenario_id}/notice")
async def notice(request: web.Request) -> web.Response:
    return _html(_notice_page(request)[0])


@routes.get("/api/scenarios/{scenario_id}/notice.pdf")
async def notice_pdf(request: web.Request) -> web.Response:
    html, scenario_id = _notice_page(request)
    return await _pdf(html, f"notice-{scenario_id}.pdf")


@routes.get(r"/api/templates/{template_id:[^/.]+}")
async def template(request: web.Request) -> web.Response:
    return _html(_form_page(request)[0])


@routes.get(r"/api/templates/{template_id:[^/.]+}.pdf")
async def template_pdf(request: web.Request) -> web.Response:
    html, template_id = _form_page(request)
    return await _pdf(html, f"{template_id}-{_variant(request)}.pdf")
