"""The police hotline channel: speech-recognition transcripts in, short spoken answers out.

POST /webhooks/hotline/webhook {"call_id", "text", "confidence"?, "dtmf"?}
  -> {"speech", "choices": [{"key", "say"}], "end_call", "transfer", "summary"?}
The call id is the Rasa sender id. Registered in credentials.yml as `bot.channels.hotline.HotlineInput`.
OpenAPI document: bot/channels/hotline/openapi.yml (also served at GET /webhooks/hotline/openapi.yml).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import ratelimit
from bot.channels.hotline.session import (
    Calls,
    CallState,
    is_goodbye,
    is_no,
    is_yes,
    make_calls,
    pick,
    wants_person,
)
from bot.channels.hotline.sms import HttpSms, RecordingSms, SmsSender
from bot.channels.hotline.speech import (
    PREFACE_LIMIT,
    URL,
    Choice,
    after_question,
    choices_from,
    extra_choice,
    extra_pages,
    page_turn,
    plain,
    read_choices,
    scenario_pages,
    shorten,
    split_question,
)

logger = logging.getLogger(__name__)
OPENAPI = Path(__file__).with_name("openapi.yml")
MAX_TEXT = 1000  # characters; a spoken turn is far shorter
MAX_CALL_ID = 128
DTMF = re.compile(r"^[0-9*#]$")
MAX_FAILURES = 2
NOT_UNDERSTOOD = ("没太明白", "没能理解")
CONFIRM_CHOICES = [Choice("1", "对", "@yes"), Choice("2", "不对", "@no")]
ASK_AGAIN = "抱歉，我没有听清。请您再说一下要办理什么业务，比如补办身份证、孩子上户口。"
TRANSFER_SPEECH = "好的，正在为您转接人工服务，请稍候。"


class BadRequest(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def parse_body(body: Any) -> tuple[str, str, float | None, str | None]:
    if not isinstance(body, dict):
        raise BadRequest("invalid_body", "请求体必须是 JSON 对象")
    call_id, text = body.get("call_id"), body.get("text", "")
    confidence, dtmf = body.get("confidence"), body.get("dtmf")
    if not isinstance(call_id, str) or not call_id.strip() or len(call_id) > MAX_CALL_ID:
        raise BadRequest("invalid_call_id", f"call_id 必须是 1–{MAX_CALL_ID} 个字符的字符串")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise BadRequest("invalid_text", "text 必须是字符串")
    if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, (int, float))
                                   or not 0.0 <= float(confidence) <= 1.0):
        raise BadRequest("invalid_confidence", "confidence 必须是 0 到 1 之间的数")
    if dtmf is not None and (not isinstance(dtmf, str) or not DTMF.match(dtmf)):
        raise BadRequest("invalid_dtmf", "dtmf 必须是一个按键：0–9、* 或 #")
    return call_id.strip(), text, None if confidence is None else float(confidence), dtmf


def answer(speech: str, choices: list[Choice] | None = None, end_call: bool = False, transfer: bool = False,
           **extra: Any) -> dict:
    return {"speech": speech, "choices": [c.public() for c in choices or []], "end_call": end_call,
            "transfer": transfer, **extra}


class Hotline:
    """One turn of a call; `send` passes text to Rasa and returns its messages, `tracker` reads the slots."""

    def __init__(self, send: Callable[[str, str], Awaitable[list[dict]]],
                 tracker: Callable[[str], Awaitable[dict]], sms: SmsSender,
                 min_confidence: float = 0.6, catalog: Any = None, normalizer: Any = None, finder: Any = None,
                 calls: Calls | None = None):
        self.send, self.tracker, self.sms = send, tracker, sms
        self.min_confidence = min_confidence
        self.calls = calls if calls is not None else make_calls()
        self.catalog, self.normalizer, self.finder = catalog, normalizer, finder

    def _load(self) -> None:
        if self.catalog is None:
            from bot.catalog.loader import load_valid_catalog
            from bot.channels.normalize import Normalizer
            from bot.nlu.matcher import PhraseFinder
            from bot.settings import SCENARIOS_DIR

            self.catalog = load_valid_catalog(SCENARIOS_DIR)
            self.normalizer = Normalizer.for_catalog(self.catalog)
            self.finder = PhraseFinder.for_catalog(self.catalog)

    async def turn(self, call_id: str, text: str, confidence: float | None, dtmf: str | None) -> dict:
        self._load()
        try:
            state = await self.calls.load(call_id)
        except Exception:  # Redis away: the caller still gets an answer, this turn without what came before
            logger.exception("hotline call state could not be read")
            state = CallState(call_id)
        try:
            return await self._turn(state, text, confidence, dtmf)
        finally:  # also after a failed turn: the failure count and the choices offered must survive it
            try:
                await self.calls.save(state)
            except Exception:
                logger.exception("hotline call state could not be saved")

    async def _turn(self, state: CallState, text: str, confidence: float | None, dtmf: str | None) -> dict:
        if len(text) > MAX_TEXT:
            return answer("您说的内容太长了，我没能听清。请简单说一下您要办理什么业务。", state.choices)
        if wants_person(text):
            return await self._transfer(state, "来电人要求转人工")
        if dtmf is not None:
            if dtmf == "*" and state.choices:
                return answer("我再说一遍选项。" + read_choices(state.choices), state.choices)
            choice = next((c for c in state.choices if c.key == dtmf), None)
            if choice is None:
                return await self._failed(state, "没有这个按键选项。" + (read_choices(state.choices)
                                                                      if state.choices else ASK_AGAIN))
            return await self._choose(state, choice)
        if state.pending is not None:
            heard, state.pending = state.pending, None
            if is_yes(text) or pick(text, CONFIRM_CHOICES) == CONFIRM_CHOICES[0]:
                return await self._ask_rasa(state, heard)
            if is_no(text) or pick(text, CONFIRM_CHOICES) == CONFIRM_CHOICES[1]:
                return await self._failed(state, "抱歉听错了。请您再说一遍，要办理什么业务？")
        choice = pick(text, state.choices)
        if choice is not None:
            return await self._choose(state, choice)
        if is_goodbye(text):
            return answer("感谢您的来电，再见。", end_call=True)
        normalized = self.normalizer.normalize(text)
        heard = normalized.text.lstrip("/")  # a caller cannot send a button payload by voice
        if not heard.strip() or not re.search(r"[\u4e00-\u9fffA-Za-z0-9]", heard):
            return await self._failed(state, ASK_AGAIN)
        state.remember(heard)
        if confidence is not None and confidence < self.min_confidence:
            state.pending = heard
            state.choices = CONFIRM_CHOICES
            return answer(f"{self._as_heard(heard)}对吗？" + read_choices(CONFIRM_CHOICES), CONFIRM_CHOICES,
                          heard=heard)
        return await self._ask_rasa(state, heard, normalized=heard)

    def _as_heard(self, heard: str) -> str:
        names = {c.code: c.name for c in self.catalog.categories}
        codes = [m.value for m in self.finder.find(heard) if m.entity == "category"]
        if codes:
            return f"您是说办理{names.get(codes[0], codes[0])}，"
        return f"您是说“{heard[:30]}”，"

    async def _choose(self, state: CallState, choice: Choice) -> dict:
        if choice.payload == "@more":
            return self._next_page(state)
        if choice.payload in ("@yes", "@no"):
            heard, state.pending = state.pending, None
            if choice.payload == "@yes" and heard:
                return await self._ask_rasa(state, heard)
            return await self._failed(state, "抱歉听错了。请您再说一遍，要办理什么业务？")
        if choice.payload.startswith("/human_handoff"):
            return await self._transfer(state, "来电人选择转人工")
        return await self._ask_rasa(state, choice.payload)

    async def _failed(self, state: CallState, speech: str) -> dict:
        state.failures += 1
        if state.failures >= MAX_FAILURES:
            return await self._transfer(state, f"连续{state.failures}次没有听懂")
        return answer(speech, state.choices)

    async def _ask_rasa(self, state: CallState, text: str, normalized: str | None = None) -> dict:
        before = await self._slots(state.call_id)
        messages = await self.send(state.call_id, text)
        slots = await self._slots(state.call_id)
        said = "\n".join(m.get("text") or "" for m in messages)
        buttons = [b for m in messages for b in (m.get("buttons") or [])]
        extra = {"heard": normalized} if normalized is not None else {}
        if not messages or any(w in said for w in NOT_UNDERSTOOD):
            state.choices = choices_from(buttons)
            speech = "抱歉，我没太明白。" + (split_question(said)[1] or "请问您要办理什么业务？")
            return await self._failed(state, speech + read_choices(state.choices)) | extra
        state.failures = 0
        scenario_id = slots.get("scenario")
        if scenario_id and (scenario_id != before.get("scenario") or "需要准备的材料" in said):
            return await self._read_scenario(state, slots, said, buttons) | extra
        preface, question = split_question(said)
        state.choices = choices_from(buttons)
        links = URL.findall(said)
        sms = ""
        if links:
            await self.sms.send(state.call_id, plain(said), links[0])
            sms = "详细内容已经用短信发给您。"
        if not question:
            question = "请问还有什么可以帮您？" if not state.choices else "请选择。"
        speech = shorten(preface, PREFACE_LIMIT - len(sms)) + sms + question + read_choices(state.choices)
        return answer(speech, state.choices) | extra

    async def _read_scenario(self, state: CallState, slots: dict, said: str, buttons: list[dict]) -> dict:
        from bot.consult.engine import next_step
        from bot.consult.render import condition_label
        from bot.nlu.matcher import fact_value

        category = slots.get("category")
        tree = self.catalog.trees.get(category)
        scenario = tree.scenario(slots["scenario"]) if tree else None
        if scenario is None:
            return answer(shorten(plain(said)), choices_from(buttons))
        name = next((c.name for c in self.catalog.categories if c.code == category), scenario.title)
        step = next_step(tree, dict(slots.get("answers") or {}))
        applied = step.extras if step.scenario is not None and step.scenario.id == scenario.id else []
        possible = step.possible_extras if applied is step.extras else []
        links = URL.findall(said)
        await self.sms.send(state.call_id, plain(said), links[-1] if links else "")
        new_extras = [e for e in applied if e.id not in state.extras_read]
        if state.sms_sent_for == scenario.id and new_extras:  # the caller said an extra applies: only what it adds
            extra = new_extras[0]
            pages, lead = extra_pages(condition_label(tree, extra.when).strip("「」"), extra)
        else:
            pages, lead = scenario_pages(scenario, name, applied)
        state.sms_sent_for, state.extras_read = scenario.id, [e.id for e in applied]
        offered = [extra_choice(condition_label(tree, e.when),
                                f'/consult{{"fact":"{fact_value(tree.code, *_only_condition(e.when))}"}}')
                   for e in possible if _only_condition(e.when)]
        state.after_pages = after_question(offered, choices_from(buttons), lead)
        state.pages = pages
        return self._next_page(state) | {"scenario": scenario.id}

    def _next_page(self, state: CallState) -> dict:
        if not state.pages:  # "继续听" after the last page: the question again
            question, choices = state.after_pages
            state.choices = choices
            return answer(question, choices)
        turn = page_turn(state.pages[0], len(state.pages) - 1, state.after_pages)
        state.pages = state.pages[1:]
        state.choices = turn.choices
        return answer(turn.speech, turn.choices)

    async def _slots(self, call_id: str) -> dict:
        try:
            return await self.tracker(call_id) or {}
        except Exception:  # the summary is best effort; the call goes on
            logger.exception("could not read the tracker of %s", call_id)
            return {}

    async def _transfer(self, state: CallState, reason: str) -> dict:
        self._load()
        slots = await self._slots(state.call_id)
        summary = case_summary(self.catalog, slots, reason, state.heard)
        state.failures, state.pending, state.choices = 0, None, []
        return answer(TRANSFER_SPEECH, [], transfer=True, summary=summary)


def _only_condition(when: dict) -> tuple[str, str] | None:
    """(question, option) of an extra that hangs on one answer: a keypad digit can give that answer."""
    if len(when) != 1:
        return None
    question, options = next(iter(when.items()))
    return (question, options[0]) if len(options) == 1 else None


def case_summary(catalog: Any, slots: dict, reason: str, heard: list[str]) -> str:
    """One line for the human agent: category, the facts so far, the scenario if reached, why."""
    code = slots.get("category")
    parts = [f"转人工原因：{reason}"]
    info = next((c for c in catalog.categories if c.code == code), None)
    parts.append(f"业务：{info.name if info else '未确定'}")
    tree = catalog.trees.get(code) if code else None
    facts = []
    for qid, oid in (slots.get("answers") or {}).items():
        q = tree.question(qid) if tree else None
        option = next((o for o in q.options if o.id == oid), None) if q else None
        facts.append(option.label if option else f"{qid}={oid}")
    parts.append("已知：" + ("、".join(facts) if facts else "无"))
    if slots.get("scenario") and tree:
        s = next((s for s in tree.scenarios if s.id == slots["scenario"]), None)
        parts.append(f"情景：{s.title if s else slots['scenario']}")
    if heard:
        parts.append(f"来电人最后说：{heard[-1][:40]}")
    return "｜".join(parts)


class HotlineInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "hotline"

    @classmethod
    def from_credentials(cls, credentials: dict | None) -> HotlineInput:
        credentials = credentials or {}
        return cls(min_confidence=float(credentials.get("min_confidence", 0.6)), sms_url=credentials.get("sms_url"),
                   redis_url=credentials.get("redis_url") or os.environ.get("HUJI_REDIS_URL") or None)

    def __init__(self, min_confidence: float = 0.6, sms_url: str | None = None, redis_url: str | None = None):
        self.min_confidence = min_confidence
        self.sms: SmsSender = HttpSms(sms_url) if sms_url else RecordingSms()
        self.calls = make_calls(redis_url)
        logger.info("hotline call state in %s", "Redis" if redis_url else "memory")
        self.hotline: Hotline | None = None
        self._app: Any = None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("hotline_webhook", __name__)

        async def send(call_id: str, text: str) -> list[dict]:
            collector = CollectingOutputChannel()
            await on_new_message(UserMessage(text, collector, call_id, input_channel=self.name()))
            return collector.messages

        async def tracker(sender: str) -> dict:  # the slots of Rasa's tracker, read in process
            found = await self._app.ctx.agent.tracker_store.retrieve(sender)
            return found.current_slot_values() if found else {}

        self.hotline = Hotline(send, tracker, self.sms, self.min_confidence, calls=self.calls)
        warm_up = threading.Thread(target=self.hotline._load, daemon=True)  # catalog and normalizer: ~4 s
        warm_up.start()

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/openapi.yml", methods=["GET"])
        async def openapi(_: Request) -> HTTPResponse:
            return response.text(OPENAPI.read_text(encoding="utf-8"), content_type="application/yaml")

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                try:
                    body = request.json
                except Exception:  # sanic raises on a body that is not JSON
                    raise BadRequest("invalid_json", "请求体不是合法的 JSON") from None
                call_id, text, confidence, dtmf = parse_body(body)
            except BadRequest as error:
                return response.json({"error": {"code": error.code, "message": error.message}}, status=400)

            if not await ratelimit.allow(call_id):
                return response.json(answer(ratelimit.TOO_FAST))
            self._app = request.app
            await asyncio.get_running_loop().run_in_executor(None, warm_up.join)  # the catalog is loaded
            return response.json(await self.hotline.turn(call_id, text, confidence, dtmf))

        return hook
