"""Turns questions and scenarios into short, polite Chinese messages with buttons."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

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


def _who(s: Scenario, extras: list[Extra]) -> str:
    return "；".join(w for w in [s.who_must_come, *(e.who_must_come for e in extras)] if w)


def _facts(s: Scenario, extras: list[Extra]) -> list[tuple[str, str, str]]:
    """(aspect, label, text) of the practical facts, in the order a clerk tells them."""
    return [("who", "👤 谁来办理", _who(s, extras)), ("where", "📍 在哪办理", s.where),
            ("time", "⏱ 办理时限", time_limit_text(s)), ("fee", "💰 费用", s.fee),
            ("online", "🌐 网上办理", online_text(s))]


def aspect_line(s: Scenario, extras: list[Extra], aspect: str) -> str:
    """"💰 费用：不收费" for the aspect the citizen asked about; "" for the checklist (it leads anyway)."""
    return next((f"{label}：{text}" for key, label, text in _facts(s, extras) if key == aspect and text), "")


def full_answer(s: Scenario, extras: list[Extra], category_name: str, templates: list[Template],
                possible: list[tuple[str, Extra]] = (), notice_url: str = "") -> str:
    """Everything the chat can say about the outcome ("查看完整清单"); the notice sheet holds the same and more."""
    lines = [f"【{category_name}｜{s.title}】", f"{VERDICT_LABELS.get(s.verdict, s.verdict)}：{s.reason}"]
    materials = list(s.materials) + [m for e in extras for m in e.materials]
    if materials:
        lines += ["", "📋 需要准备的材料："] + checklist_lines(materials)
    if templates:
        lines += ["", _templates_line(templates)]
    lines.append("")
    lines += [f"{label}：{value}" for _, label, value in _facts(s, extras) if value]
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
        lines += ["", _notice_line(notice_url)]
    return "\n".join(lines)


# A chat answer is read on a phone: 600 characters of text (the link's address not counted: it is one tap, and
# its length depends on the answers it carries) are about one and a half screens at 15-18 characters a line, and
# with the link and the numbered button lines the WeChat channel appends they stay within one WeChat text message
# (2,048 bytes; a Chinese character takes 3). Whatever does not fit is one tap away ("查看完整清单") and on the
# notice sheet.
MAX_ANSWER_CHARS = 600
MAX_ANSWER_BYTES = 1700  # the text with its link: leaves 347 bytes of the 2,047 for the WeChat button lines
URL = re.compile(r"https?://\S+")
FULL_LIST_HINT = "其余内容请点“查看完整清单”，或打开下面的告知单。"


@dataclass
class ChatAnswer:
    text: str
    complete: bool  # nothing of the full answer was left out (no need to offer "查看完整清单")


def _notice_line(url: str) -> str:
    return f"🖨 一次性告知单（完整清单，可打印，带上它去窗口）：{url}"


def _templates_line(templates: list[Template]) -> str:
    return ("📝 需要填写：" + "、".join(f"《{t.name.strip('《》')}》" for t in templates)
            + "（回复“看模板”获取空白表和样表）")


def _compact_checklist(items: list[ChecklistItem]) -> list[str]:
    """The checklist without the notes: names, 原件/复印件 and how many, the 任选其一 alternatives."""
    bare = [ChoiceGroup([Material(a.name, a.form, a.copies) for a in i.alternatives]) if isinstance(i, ChoiceGroup)
            else Material(i.name, i.form, i.copies) for i in items]
    return checklist_lines(bare)


def visible_length(text: str) -> int:
    """Characters a citizen reads: the text without the addresses of its links."""
    return len(URL.sub("", text))


def _size(lines: list[str]) -> int:
    return visible_length("\n".join(lines))


def scenario_answer(s: Scenario, extras: list[Extra], category_name: str, templates: list[Template],
                    possible: list[tuple[str, Extra]] = (), notice_url: str = "", aspects: list[str] = (),
                    limit: int = MAX_ANSWER_CHARS, max_bytes: int = MAX_ANSWER_BYTES) -> ChatAnswer:
    """The chat answer: the verdict and the checklist first (after the aspect the citizen asked about), then as
    many of the practical facts as fit (`limit` characters read, `max_bytes` in all), then the notice sheet's link.

    Conditional additions are not printed: they are offered as a choice (the caller's "还有特殊情况要看吗")."""
    verdict = f"{VERDICT_LABELS.get(s.verdict, s.verdict)}：{s.reason}"
    asked = [line for a in dict.fromkeys(aspects) if (line := aspect_line(s, extras, a))]
    # the aspect asked leads; a case that cannot be filed says so first
    lead = [f"【{category_name}｜{s.title}】"] + ([verdict, *asked] if s.verdict == "ineligible" else [*asked, verdict])
    tail = ["", _notice_line(notice_url)] if notice_url else []
    hint = ["", FULL_LIST_HINT]
    # the special cases are not printed, only offered: one line, always shown
    special = ["", f"📌 另有{len(possible)}种特殊情况（如{possible[0][0]}）会增加材料或要求，"
                   "点“还有特殊情况要看吗”查看。"] if possible else []

    def fits(lines: list[str]) -> bool:
        text = "\n".join(lines)
        return visible_length(text) <= limit and len(text.encode("utf-8")) <= max_bytes

    materials = list(s.materials) + [m for e in extras for m in e.materials]
    complete = True
    body: list[str] = []
    if materials:
        header = ["", "📋 需要准备的材料："]
        full = checklist_lines(materials)
        if fits(lead + header + full + special + hint + tail):
            body = header + full
        else:
            complete = False
            body = header + _fitting_items(materials, lambda items: fits(lead + header + items + special + hint + tail))
    body += special
    # then, in the order a clerk tells them, what still fits; groups are separated by a blank line
    blocks: list[tuple[str, list[str]]] = [("facts", [f"{label}：{value}"]) for key, label, value in _facts(s, extras)
                                           if value and key not in aspects]
    if templates:
        blocks.append(("templates", [_templates_line(templates)]))
    notes = s.notes + [n for e in extras for n in e.notes]
    if notes:
        blocks.append(("notes", ["💡 温馨提示："] + [f"· {n}" for n in notes]))
    group = ""
    for kind, lines in blocks:
        candidate = ([""] if kind != group else []) + lines
        if fits(lead + body + candidate + hint + tail):
            body += candidate
            group = kind
        else:
            complete = False
    if not complete:
        body += hint
    return ChatAnswer("\n".join(lead + body + tail), complete)


def _fitting_items(materials: list[ChecklistItem], fits: Callable[[list[str]], bool]) -> list[str]:
    """The checklist without its notes if that fits, else its first items and how many more there are."""
    lines = _compact_checklist(materials)
    if fits(lines):
        return lines
    for n in range(len(materials) - 1, 0, -1):
        kept = _compact_checklist(materials[:n]) + [f"……另有{len(materials) - n}项材料，见完整清单。"]
        if fits(kept):
            return kept
    return [f"共{len(materials)}项材料，见完整清单。"]


def special_cases_text(possible: list[tuple[str, Extra]], limit: int = MAX_ANSWER_CHARS) -> str:
    """The conditional additions, shown when asked for: each case with what it adds, or only the cases if that
    is too long (the citizen picks one and gets the checklist with it)."""
    head = "以下特殊情况会增加材料或要求。属于哪一种请点选，都不属于就按上面的清单准备："
    detailed = "\n".join([head] + [f"· 如属{label}：{extra_text(extra)}" for label, extra in possible])
    if len(detailed) <= limit:
        return detailed
    return "\n".join([head] + [f"· {label}" for label, _ in possible]
                     + ["点选后，我把要补充的材料加进清单告诉您。"])


def special_case_buttons(tree: CategoryTree, possible: list[tuple[str, Extra]]) -> list[Button]:
    """One button per case: it answers the case's question, so the checklist is given again with the addition
    (several options of one question narrow it; the question is then asked between them)."""
    buttons = []
    for label, extra in possible:
        if len(extra.when) != 1:
            continue  # a case of several answers is told in words, not one button
        (qid, allowed), = extra.when.items()
        buttons.append({"title": f"属于{label}",
                        "payload": f'/consult{{"fact":"{fact_value(tree.code, qid, "|".join(allowed))}"}}'})
    return buttons


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
