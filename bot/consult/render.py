"""Turns questions and scenarios into short, polite Chinese messages with buttons."""

from __future__ import annotations

from bot.catalog.model import (
    CategoryTree,
    ChecklistItem,
    ChoiceGroup,
    Conditions,
    Extra,
    Material,
    Question,
    Scenario,
    Template,
)
from bot.consult.engine import Answers, remaining_options
from bot.nlu.matcher import fact_value
from bot.settings import HOTLINE

FORM_LABELS = {"original": "原件", "copy": "复印件", "original_and_copy": "原件及复印件"}
VERDICT_LABELS = {
    "eligible": "✅ 可以办理",
    "conditional": "⚠️ 满足条件后可以办理",
    "ineligible": "❌ 这种情况不能按本业务办理",
}
RELIABILITY_NOTES = {"3RD": "（第三方资料，以窗口告知为准）", "UNVERIFIED": "（尚未核实，以窗口告知为准）"}
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩"

Button = dict[str, str]


def question_buttons(category: str, question: Question, answers: Answers | None = None) -> list[Button]:
    """One button per option still possible (a narrowed answer leaves only some)."""
    return [{"title": o.label, "payload": f'/consult{{"fact":"{fact_value(category, question.id, o.id)}"}}'}
            for o in remaining_options(question, answers or {})]


def _material(m: Material) -> str:
    form = FORM_LABELS.get(m.form, m.form)
    amount = f"{form}{m.copies}份" if m.copies > 1 else form
    note = f"；{m.note}" if m.note else ""
    return f"{m.name}（{amount}{note}）"


def checklist_lines(items: list[ChecklistItem]) -> list[str]:
    lines = []
    for n, item in enumerate(items, 1):
        if isinstance(item, ChoiceGroup):
            note = f"（{item.note}）" if item.note else ""
            lines.append(f"{n}. 以下任选其一{note}：")
            lines += [f"   {CIRCLED[i % len(CIRCLED)]} {_material(a)}" for i, a in enumerate(item.alternatives)]
        else:
            lines.append(f"{n}. {_material(item)}")
    return lines


def time_limit_text(s: Scenario) -> str:
    parts = []
    if s.time_limit.apply_within:
        parts.append(f"申报期限：{s.time_limit.apply_within}")
    if s.time_limit.working_days == 0:
        parts.append("办理时间：材料齐全的一般当场办结")
    elif s.time_limit.working_days:
        parts.append(f"办理时间：{s.time_limit.working_days}个工作日内")
    if s.time_limit.note:
        parts.append(s.time_limit.note)
    return "；".join(parts)


def condition_label(tree: CategoryTree, when: Conditions) -> str:
    """「单位或人才市场集体户」 for {household: unit_collective}: how a citizen recognises the case."""
    parts = []
    for qid, allowed in when.items():
        question = tree.question(qid)
        labels = [o.label for o in question.options if o.id in allowed] if question else list(allowed)
        parts.append("或".join(f"「{label}」" for label in labels))
    return "且".join(parts)


def _extra_lines(extra: Extra) -> list[str]:
    lines = [f"需要{_material(m)}" for m in _materials_of(extra.materials)]
    if extra.who_must_come:
        lines.append(extra.who_must_come)
    return lines + extra.notes


def extra_text(extra: Extra) -> str:
    """One sentence of what an extra adds: its materials, who must come, its notes."""
    return "；".join(x.rstrip("。；") for x in _extra_lines(extra)) + "。"


def _materials_of(items: list[ChecklistItem]) -> list[Material]:
    return [a for i in items for a in (i.alternatives if isinstance(i, ChoiceGroup) else [i])]


def scenario_answer(s: Scenario, extras: list[Extra], category_name: str, templates: list[Template],
                    possible: list[tuple[str, Extra]] = (), notice_url: str = "") -> str:
    lines = [f"【{category_name}｜{s.title}】", f"{VERDICT_LABELS.get(s.verdict, s.verdict)}：{s.reason}"]
    materials = list(s.materials) + [m for e in extras for m in e.materials]
    if materials:
        lines += ["", "📋 需要准备的材料："] + checklist_lines(materials)
    if templates:
        lines += ["", "📝 需要填写：" + "、".join(f"《{t.name.strip('《》')}》" for t in templates)
                  + "（回复“看模板”获取空白表和样表）"]
    who = "；".join(w for w in [s.who_must_come, *(e.who_must_come for e in extras)] if w)
    facts = [
        ("👤 谁来办理", who),
        ("📍 在哪办理", s.where),
        ("⏱ 办理时限", time_limit_text(s)),
        ("💰 费用", s.fee),
        ("🌐 网上办理", online_text(s)),
    ]
    lines.append("")
    lines += [f"{label}：{value}" for label, value in facts if value]
    notes = s.notes + [n for e in extras for n in e.notes]
    if notes:
        lines += ["", "💡 温馨提示："] + [f"· {n}" for n in notes]
    if possible:
        lines += ["", "📌 如属以下情况，还要注意："]
        for label, extra in possible:
            lines.append(f"· 如属{label}：{extra_text(extra)}")
    if s.sources:
        cited = "；".join(f"{src.title}{RELIABILITY_NOTES.get(src.reliability, '')}" for src in s.sources)
        lines += ["", f"依据：{cited}。资料核实于 {s.last_verified}，政策如有调整以窗口告知为准。"]
    if notice_url:
        lines += ["", f"🖨 一次性告知单（可打印，带上它去窗口）：{notice_url}"]
    return "\n".join(lines)


def online_text(s: Scenario) -> str:
    if s.online.available:
        item = f"「{s.online.business}」" if s.online.business else ""
        parts = [f"可以网上办理{item}" + (f"：{s.online.channel}" if s.online.channel else ""),
                 "办理结果可以邮寄送达" if s.online.postal else "", s.online.note]
    else:
        parts = ["暂不能全程网上办理", s.online.note]
    return "。".join(p.rstrip("。") for p in parts if p) + "。"


def template_text(t: Template, blank_url: str, sample_url: str, prefilled_url: str = "") -> str:
    lines = [f"📝《{t.name.strip('《》')}》", t.purpose, f"空白表（可打印）：{blank_url}",
             f"样表（填写示例）：{sample_url}"]
    if prefilled_url:
        lines.append(f"按您的情况预填的表：{prefilled_url}")
    return "\n".join(line for line in lines if line)


def notice_text(s: Scenario, html_url: str, pdf_url: str) -> str:
    return (f"这是「{s.title}」的一次性告知单，材料清单、办理地点、时限和费用都在上面，可以打印或保存到手机：\n"
            f"网页版：{html_url}\nPDF（A4 打印）：{pdf_url}")


HELP_BUTTONS: list[Button] = [
    {"title": "转人工", "payload": "/human_handoff"},
    {"title": "重新开始", "payload": "/start_over"},
]
AFTER_ANSWER_BUTTONS: list[Button] = [
    {"title": "去哪里办（附近大厅与排队）", "payload": "/find_hall"},
    {"title": "预约办理", "payload": "/book_appointment"},
    {"title": "看模板", "payload": "/show_template"},
    {"title": "打印告知单", "payload": "/print_notice"},
    *HELP_BUTTONS,
]

HANDOFF_TEXT = (f"需要人工帮助的话，您可以拨打广州市政务服务便民热线 {HOTLINE}（可转公安户政咨询），"
                "或在工作时间到就近的派出所户政窗口咨询。")
