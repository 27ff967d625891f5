"""The one consultation loop: every turn reads the message, updates the answers and asks or answers.

All scenario knowledge comes from the database, so the same loop serves every category's tree.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.catalog_access import CatalogView
from bot.catalog.model import CategoryInfo, CategoryTree
from bot.consult import render
from bot.consult.engine import Step, decided, merge, next_step, remaining_options
from bot.consult.interpret import answer_to_pending, read_entities, valid_facts
from bot.documents.notice import notice_link, template_link
from bot.settings import public_url

COMMON_CATEGORIES = ("birth", "id_card", "residence_permit", "talent", "family", "household_book")
MAX_FALLBACKS = 2  # a second message in a row that we cannot read gets an offer of human help


def _latest(tracker: Tracker) -> tuple[str, str | None, list[dict]]:
    message = tracker.latest_message or {}
    intent = (message.get("intent") or {}).get("name")
    return message.get("text") or "", intent, message.get("entities") or []


def _category_buttons(view: CatalogView) -> list[dict[str, str]]:
    return [{"title": c.name, "payload": f'/consult{{"category":"{c.code}"}}'}
            for c in view.categories() if c.code in COMMON_CATEGORIES]


def step_templates(step: Step) -> list[str]:
    """Template ids of the scenario and of the extras that apply, in order, once each."""
    ids = step.scenario.templates + [t for e in step.extras for t in e.templates] if step.scenario else []
    return list(dict.fromkeys(ids))


def step_notice_url(step: Step, answers: dict[str, str], district: str | None, pdf: bool = False) -> str:
    """The 一次性告知单 of this outcome: scenario, the extras that apply, the answers and the district (option
    ids and a district name only: nothing the citizen typed goes into a URL)."""
    assert step.scenario is not None
    return notice_link(public_url(), step.scenario.id, [e.id for e in step.extras], answers, district, pdf=pdf)


def _outcome(step: Step) -> tuple | None:
    """What the citizen is told at this step: the scenario and the extras shown with it."""
    if not step.done:
        return None
    return step.scenario.id, [e.id for e in step.extras], [e.id for e in step.possible_extras]


def _slots(**values: Any) -> list[EventType]:
    return [SlotSet(k, v) for k, v in values.items()]


class ActionConsult(Action):
    def name(self) -> str:
        return "action_consult"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        text, intent, entities = _latest(tracker)
        with CatalogView() as view:
            return self._turn(dispatcher, tracker, view, text, intent, entities)

    def _turn(self, dispatcher: CollectingDispatcher, tracker: Tracker, view: CatalogView,
              text: str, intent: str | None, entities: list[dict]) -> list[EventType]:
        reading = read_entities(entities)
        current = tracker.get_slot("category")
        if current is not None and view.info(current) is None:  # the catalog changed under the conversation
            current = None
        answers: dict[str, str] = dict(tracker.get_slot("answers") or {})
        pending = tracker.get_slot("pending_question")

        known = {c.code for c in view.categories()}
        named = [c for c in reading.categories_implied() if c in known]
        target = reading.target(current, known)
        switched = target != current
        if switched:
            answers, pending = {}, None
            if current:
                dispatcher.utter_message(text=f"好的，我们改为咨询「{view.info(target).name}」。")

        if target is None:
            return self._unclear(dispatcher, tracker, view, intent, None, None)

        info = view.info(target)
        tree = view.tree(target)
        if tree is None:
            return self._not_covered(dispatcher, info)

        facts = valid_facts(tree, reading.facts.get(target, {}))
        question = tree.question(pending) if pending else None
        if question is not None and question.id not in facts:
            shown = remaining_options(question, answers)
            if (option := answer_to_pending(question, shown, text, intent)) is not None:
                facts[question.id] = option

        if not facts and not switched:
            if target in named:  # the business named again: carry on where we were
                return self._advance(dispatcher, view, info, tree, answers,
                                     district=tracker.get_slot("district"))
            if intent == "correct" and answers:
                return self._reask_last(dispatcher, tree, answers)
            return self._unclear(dispatcher, tracker, view, intent, tree, question, answers)

        before = dict(answers)
        for q, answer in facts.items():
            # pop and re-insert: the dict keeps the order in which answers were last given
            answers[q] = merge(answers.pop(q, None), answer)
        corrected = [q for q in facts if decided(before, q) and before[q] != answers[q]]
        if corrected:
            changes = "，".join(f"{tree.question(q).prompt.rstrip('？?')}：{tree.question(q).option(answers[q]).label}"
                                for q in corrected if decided(answers, q))
            dispatcher.utter_message(text=f"好的，已为您更正（{changes}）。" if changes else "好的，已为您更正。")
        step = next_step(tree, answers)
        if not switched and tracker.get_slot("scenario") and _outcome(next_step(tree, before)) == _outcome(step):
            dispatcher.utter_message(text="好的。这个情况不影响上面的办理情景和材料清单。还有其他问题吗？",
                                     buttons=render.AFTER_ANSWER_BUTTONS)
            return _slots(answers=answers, fallback_count=0.0)
        return self._advance(dispatcher, view, info, tree, answers, repeat_of=pending, step=step,
                             district=tracker.get_slot("district"))

    def _advance(self, dispatcher: CollectingDispatcher, view: CatalogView, info: CategoryInfo,
                 tree: CategoryTree, answers: dict[str, str], repeat_of: str | None = None,
                 step: Step | None = None, district: str | None = None) -> list[EventType]:
        step = step or next_step(tree, answers)
        if step.question is not None:
            # the citizen told us something else first: say it was heard before asking again
            noted = "好的，已记下。" if step.question.id == repeat_of else ""
            dispatcher.utter_message(text=noted + step.question.prompt,
                                     buttons=render.question_buttons(tree.code, step.question, answers))
            return _slots(category=tree.code, scenario=None, answers=answers,
                          pending_question=step.question.id, fallback_count=0.0)
        if step.scenario is not None:
            s = step.scenario
            templates = view.templates(step_templates(step))
            possible = [(render.condition_label(tree, e.when), e) for e in step.possible_extras]
            notice = step_notice_url(step, answers, district)
            dispatcher.utter_message(text=render.scenario_answer(s, step.extras, info.name, templates, possible,
                                                                 notice_url=notice),
                                     buttons=render.AFTER_ANSWER_BUTTONS)
            return _slots(category=tree.code, scenario=s.id, answers=answers,
                          pending_question=None, fallback_count=0.0)
        dispatcher.utter_message(text="您描述的情况比较特殊，我暂时无法判断对应哪一种办理情景。" + render.HANDOFF_TEXT)
        return _slots(category=tree.code, scenario=None, answers=answers, pending_question=None, fallback_count=0.0)

    def _not_covered(self, dispatcher: CollectingDispatcher, info: CategoryInfo) -> list[EventType]:
        dispatcher.utter_message(
            text=f"关于「{info.name}」：{info.summary}\n这类业务的逐项情景咨询还在整理中，暂时无法为您核对材料清单。"
                 + render.HANDOFF_TEXT)
        return _slots(category=info.code, scenario=None, answers={}, pending_question=None, fallback_count=0.0)

    def _reask_last(self, dispatcher: CollectingDispatcher, tree: CategoryTree,
                    answers: dict[str, str]) -> list[EventType]:
        last = next(reversed(answers))
        answers = {q: o for q, o in answers.items() if q != last}
        question = tree.question(last)
        dispatcher.utter_message(text=f"好的，我们重新回答这一项：{question.prompt}",
                                 buttons=render.question_buttons(tree.code, question, answers))
        return _slots(answers=answers, scenario=None, pending_question=last, fallback_count=0.0)

    def _unclear(self, dispatcher: CollectingDispatcher, tracker: Tracker, view: CatalogView,
                 intent: str | None, tree: CategoryTree | None, question: Any,
                 answers: dict[str, str] | None = None) -> list[EventType]:
        if intent in ("affirm", "deny", "thanks") and question is None and tracker.get_slot("scenario"):
            dispatcher.utter_message(text="好的。还有其他需要咨询的吗？可以直接描述您的情况，或回复“重新开始”。")
            return []
        failures = int(tracker.get_slot("fallback_count") or 0) + 1
        if failures >= MAX_FALLBACKS:
            dispatcher.utter_message(
                text=f"抱歉，我还是没能理解您的意思。{render.HANDOFF_TEXT}\n您也可以换个说法再试，或点“重新开始”。",
                buttons=render.HELP_BUTTONS)
            return _slots(fallback_count=0.0)
        if question is not None and tree is not None:
            dispatcher.utter_message(text=f"抱歉，我没太明白。{question.prompt}请点选下面的选项，或直接说出您的情况。",
                                     buttons=render.question_buttons(tree.code, question, answers))
        else:
            dispatcher.utter_message(
                text="抱歉，我没太明白。请问您想办理哪一项户政业务？可以点选下面的常见业务，"
                     "也可以用一句话描述您的情况，比如“孩子刚出生，户口怎么上”。",
                buttons=_category_buttons(view))
        return _slots(fallback_count=float(failures))


class ActionExplainWhy(Action):
    def name(self) -> str:
        return "action_explain_why"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        code, pending = tracker.get_slot("category"), tracker.get_slot("pending_question")
        with CatalogView() as view:
            tree = view.tree(code) if code else None
        question = tree.question(pending) if tree and pending else None
        if question is None:
            dispatcher.utter_message(text="我只问办理所必需的信息：不同情况需要的材料、办理地点和时限都不一样，"
                                          "问清楚才能给您准确的材料清单，避免您多跑一趟。")
            return []
        answers = tracker.get_slot("answers") or {}
        dispatcher.utter_message(text=f"{question.why}\n{question.prompt}",
                                 buttons=render.question_buttons(tree.code, question, answers))
        return []


class ActionRestartConsultation(Action):
    def name(self) -> str:
        return "action_restart_consultation"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        dispatcher.utter_message(text="好的，我们重新开始。请用一句话说说您要办理什么业务，或者遇到了什么情况。")
        return _slots(category=None, scenario=None, answers=None, pending_question=None, fallback_count=0.0)


def _finished_step(tracker: Tracker, view: CatalogView) -> Step | None:
    code = tracker.get_slot("category")
    tree = view.tree(code) if code else None
    step = next_step(tree, tracker.get_slot("answers") or {}) if tree else None
    return step if step and step.done else None


class ActionShowTemplate(Action):
    """The forms of the consultation's outcome: blank, 样表 and prefilled with the answers, each a printable page."""

    def name(self) -> str:
        return "action_show_template"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        with CatalogView() as view:
            step = _finished_step(tracker, view)
            templates = view.templates(step_templates(step)) if step else []
        if step is None:
            dispatcher.utter_message(text="请先告诉我您的具体情况，确定办理情景后我再给您对应的填写模板。")
            return []
        if not templates:
            dispatcher.utter_message(text="这个情景不需要另外填写申请表，带齐清单上的材料即可。"
                                          "需要打印材料清单的话，请回复“打印告知单”。")
        answers, district, base = tracker.get_slot("answers") or {}, tracker.get_slot("district"), public_url()
        for t in templates:
            prefill = any(f.fact for f in t.fields)
            dispatcher.utter_message(text=render.template_text(
                t, template_link(base, t.id), template_link(base, t.id, "sample"),
                template_link(base, t.id, "prefilled", answers, district) if prefill else ""))
        return []


class ActionPrintNotice(Action):
    """"把材料清单发给我", "我要打印": the 一次性告知单 as a page and a PDF."""

    def name(self) -> str:
        return "action_print_notice"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list[EventType]:
        with CatalogView() as view:
            step = _finished_step(tracker, view)
        if step is None:
            dispatcher.utter_message(text="请先告诉我您要办理的业务和具体情况，确定办理情景后，我再把一次性告知单"
                                          "（材料清单、地点、时限、费用）发给您打印。")
            return []
        answers, district = tracker.get_slot("answers") or {}, tracker.get_slot("district")
        dispatcher.utter_message(text=render.notice_text(step.scenario, step_notice_url(step, answers, district),
                                                         step_notice_url(step, answers, district, pdf=True)),
                                 buttons=render.AFTER_ANSWER_BUTTONS)
        return []
