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
from bot.consult import aspects, render
from bot.consult.engine import Step, decided, merge, next_step, remaining_options
from bot.consult.interpret import Reading, answer_to_pending, read_entities, valid_facts
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


def _aspect_names(asked: list[str]) -> str:
    return "、".join(aspects.LABELS[a] for a in asked)


def answer_buttons(complete: bool, special: bool) -> list[dict[str, str]]:
    """After a chat answer: more of it on request, then what a citizen does next."""
    more = [] if complete else [{"title": "查看完整清单", "payload": '/consult{"aspect":"full"}'}]
    if special:
        more.append({"title": "还有特殊情况要看吗", "payload": '/consult{"aspect":"special"}'})
    return more + render.AFTER_ANSWER_BUTTONS


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
        # businesses named earlier and not consulted yet, with what the citizen said about them
        later: dict[str, dict[str, str]] = dict(tracker.get_slot("other_business") or {})
        asked = list(dict.fromkeys(reading.aspects + aspects.detect(text)))

        known = {c.code for c in view.categories()}
        named = [c for c in reading.categories_implied() if c in known]
        several = reading.businesses(text, current, known)
        if len(several) >= 2 and current not in several:
            return self._which_first(dispatcher, view, reading, text, several, later, asked)
        target = reading.target(current, known)
        switched = target != current
        if switched:
            answers, pending = {}, None
            if current:
                dispatcher.utter_message(text=f"好的，我们改为咨询「{view.info(target).name}」。")
        remembered = [] if switched else list(tracker.get_slot("asked_aspects") or [])
        wanted = list(dict.fromkeys(remembered + [a for a in asked if a in aspects.FACT_ASPECTS]))
        for other, said in reading.facts_by_business(text, several).items():
            if other != target:  # the current business and another one: offer the other afterwards
                later.setdefault(other, said)

        if target is None:
            return self._unclear(dispatcher, tracker, view, intent, None, None)

        info = view.info(target)
        tree = view.tree(target)
        if tree is None:
            return self._not_covered(dispatcher, info)

        facts = valid_facts(tree, {**later.pop(target, {}), **reading.facts.get(target, {})})
        question = tree.question(pending) if pending else None
        if question is not None and question.id not in facts:
            shown = remaining_options(question, answers)
            # "要多少钱" may be classified as a bare no: a question about an aspect never answers yes or no
            said_intent = None if asked else intent
            if (option := answer_to_pending(question, shown, text, said_intent)) is not None:
                facts[question.id] = option
        memory = {"asked_aspects": wanted or None, "other_business": later or None}

        if not facts and not switched:
            if tracker.get_slot("scenario") and (wanted or set(asked) & set(aspects.MORE_ASPECTS)):
                return self._more(dispatcher, view, info, tree, answers, asked, tracker.get_slot("district"), later)
            if target in named:  # the business named again: carry on where we were
                return self._advance(dispatcher, view, info, tree, answers,
                                     district=tracker.get_slot("district"), memory=memory)
            if intent == "correct" and answers:
                return self._reask_last(dispatcher, tree, answers)
            # "要多少钱" before the case is clear: answered with the checklist (only when this message asks it:
            # an unreadable message after it is not understood, not taken as asking again)
            if question is not None and any(a in aspects.FACT_ASPECTS for a in asked):
                dispatcher.utter_message(text=f"好的，确定您的情况后先告诉您{_aspect_names(wanted)}。{question.prompt}",
                                         buttons=render.question_buttons(tree.code, question, answers))
                return _slots(**memory, fallback_count=0.0)
            return self._unclear(dispatcher, tracker, view, intent, tree, question, answers)

        before = dict(answers)
        for q, answer in facts.items():
            # pop and re-insert: the dict keeps the order in which answers were last given
            answers[q] = merge(answers.pop(q, None), answer)
        earlier = next_step(tree, before)
        # a correction of a given answer, or of one the catalog assumed ("是收养的")
        corrected = [q for q in facts if q in earlier.answers and "|" not in earlier.answers[q]
                     and earlier.answers[q] != answers[q]]
        if corrected:
            changes = "，".join(f"{tree.question(q).prompt.rstrip('？?')}：{tree.question(q).option(answers[q]).label}"
                                for q in corrected if decided(answers, q))
            dispatcher.utter_message(text=f"好的，已为您更正（{changes}）。" if changes else "好的，已为您更正。")
        step = next_step(tree, answers)
        if not switched and tracker.get_slot("scenario") and _outcome(earlier) == _outcome(step):
            dispatcher.utter_message(text="好的。这个情况不影响上面的办理情景和材料清单。还有其他问题吗？",
                                     buttons=render.AFTER_ANSWER_BUTTONS)
            return _slots(answers=answers, fallback_count=0.0, **memory)
        return self._advance(dispatcher, view, info, tree, answers, repeat_of=pending, step=step,
                             district=tracker.get_slot("district"), memory=memory,
                             confirmations=step.confirmations(tree, earlier))

    def _advance(self, dispatcher: CollectingDispatcher, view: CatalogView, info: CategoryInfo,
                 tree: CategoryTree, answers: dict[str, str], repeat_of: str | None = None,
                 step: Step | None = None, district: str | None = None, memory: dict | None = None,
                 confirmations: list[str] = ()) -> list[EventType]:
        step = step or next_step(tree, answers)
        memory = dict(memory or {})
        said = "".join(c if c.endswith(("。", "！")) else c + "。" for c in confirmations)
        if step.question is not None:
            # the citizen told us something else first: say it was heard before asking again
            noted = "好的，已记下。" if step.question.id == repeat_of and not said else ""
            dispatcher.utter_message(text=said + noted + step.question.prompt,
                                     buttons=render.question_buttons(tree.code, step.question, answers))
            return _slots(category=tree.code, scenario=None, answers=answers,
                          pending_question=step.question.id, fallback_count=0.0, **memory)
        if step.scenario is not None:
            s = step.scenario
            templates = view.templates(step_templates(step))
            possible = [(render.condition_label(tree, e.when), e) for e in step.possible_extras]
            notice = step_notice_url(step, step.answers, district)
            reply = render.scenario_answer(s, step.extras, info.name, templates, possible, notice_url=notice,
                                           aspects=memory.get("asked_aspects") or [])
            dispatcher.utter_message(text=(said + "\n" if said else "") + reply.text,
                                     buttons=answer_buttons(reply.complete, bool(possible)))
            later = memory.get("other_business") or {}
            if later:
                names = "、".join(f"「{view.info(c).name}」" for c in later if view.info(c))
                dispatcher.utter_message(text=f"您还提到{names}，还要咨询吗？",
                                         buttons=[{"title": f"咨询{view.info(c).name}",
                                                   "payload": f'/consult{{"category":"{c}"}}'}
                                                  for c in later if view.info(c)])
            memory["asked_aspects"] = None  # answered first this time; the next answer leads with the checklist
            return _slots(category=tree.code, scenario=s.id, answers=answers,
                          pending_question=None, fallback_count=0.0, **memory)
        dispatcher.utter_message(text="您描述的情况比较特殊，我暂时无法判断对应哪一种办理情景。" + render.HANDOFF_TEXT)
        return _slots(category=tree.code, scenario=None, answers=answers, pending_question=None, fallback_count=0.0,
                      **memory)

    def _which_first(self, dispatcher: CollectingDispatcher, view: CatalogView, reading: Reading, text: str,
                     several: list[str], later: dict[str, dict[str, str]], asked: list[str]) -> list[EventType]:
        """Two businesses in one message: ask which first; what was said about each is kept for its turn."""
        later.update(reading.facts_by_business(text, several))
        names = "和".join(f"「{view.info(c).name}」" for c in several)
        dispatcher.utter_message(text=f"您提到了{names}。我们一项一项来，先咨询哪一项？另一项稍后接着帮您看。",
                                 buttons=[{"title": view.info(c).name, "payload": f'/consult{{"category":"{c}"}}'}
                                          for c in several])
        wanted = [a for a in asked if a in aspects.FACT_ASPECTS]
        return _slots(category=None, scenario=None, answers=None, pending_question=None, fallback_count=0.0,
                      other_business=later, asked_aspects=wanted or None)

    def _more(self, dispatcher: CollectingDispatcher, view: CatalogView, info: CategoryInfo, tree: CategoryTree,
              answers: dict[str, str], asked: list[str], district: str | None,
              later: dict[str, dict[str, str]]) -> list[EventType]:
        """After the answer: the aspect asked ("要多少钱"), the complete list, or the special cases."""
        step = next_step(tree, answers)
        if not step.done:
            return self._advance(dispatcher, view, info, tree, answers, district=district)
        s = step.scenario
        possible = [(render.condition_label(tree, e.when), e) for e in step.possible_extras]
        if "special" in asked and possible:
            dispatcher.utter_message(text=render.special_cases_text(possible),
                                     buttons=render.special_case_buttons(tree, possible) + render.AFTER_ANSWER_BUTTONS)
        elif "full" in asked or "special" in asked:
            templates = view.templates(step_templates(step))
            dispatcher.utter_message(text=render.full_answer(s, step.extras, info.name, templates, possible,
                                                             notice_url=step_notice_url(step, step.answers, district)),
                                     buttons=answer_buttons(True, bool(possible)))
        else:
            lines = [line for a in asked if (line := render.aspect_line(s, step.extras, a))]
            dispatcher.utter_message(text=f"「{s.title}」\n" + "\n".join(lines) if lines else
                                     f"「{s.title}」的材料清单见上面，完整版请看告知单。",
                                     buttons=render.AFTER_ANSWER_BUTTONS)
        return _slots(fallback_count=0.0, asked_aspects=None, other_business=later or None)

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
        return _slots(category=None, scenario=None, answers=None, pending_question=None, fallback_count=0.0,
                      asked_aspects=None, other_business=None)


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
        answers, district, base = step.answers, tracker.get_slot("district"), public_url()
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
        answers, district = step.answers, tracker.get_slot("district")
        dispatcher.utter_message(text=render.notice_text(step.scenario, step_notice_url(step, answers, district),
                                                         step_notice_url(step, answers, district, pdf=True)),
                                 buttons=render.AFTER_ANSWER_BUTTONS)
        return []
