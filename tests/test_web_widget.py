"""The web chat widget in a real browser (playwright driving Debian's chromium), against the real assistant.

Screenshots of the main states go to build/screenshots/ (normal and 长辈版, phone 375×667 and desktop). The time
from a click to the rendered answer is printed (p50 over 50 clicks), not asserted.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from queue import Queue

import pytest
import requests
from aiohttp import web
from playwright.sync_api import BrowserContext, Page, Playwright, expect, sync_playwright
from stdnum.cn import ric

from bot.api.app import create_app
from bot.catalog.model import Catalog
from bot.channels import rest
from bot.channels.web import messages, routes
from bot.channels.web.browser import ARGS, CHROMIUM, ensure_chromium
from bot.services import running_assistant
from bot.settings import BUILD_DIR
from bot.training import ensure_model
from tests.hall_service import free_port
from tests.hall_service import serving as serving_here

SHOTS = BUILD_DIR / "screenshots"
PHONE = {"width": 375, "height": 667}
DESKTOP = {"width": 1280, "height": 860}
ANSWER_SECONDS = 60_000  # ms: a turn on a busy CI machine
SITUATION = "我老婆上个月在广州生了个女儿，我们都是广州户口，孩子户口怎么上"
CHECKLIST = "需要准备的材料"


# --- the relay, without a browser ------------------------------------------------------------------------------

def test_rest_answers_are_joined_with_their_custom_payload() -> None:
    replies = [{"recipient_id": "x", "text": "大厅：", "buttons": [{"title": "预约1", "payload": "/b"}]},
               {"recipient_id": "x", "custom": {"type": "halls", "halls": []}},
               {"recipient_id": "x", "text": "还有问题吗？"}]
    assert messages.from_rest(replies) == [
        {"from": "bot", "text": "大厅：", "buttons": [{"title": "预约1", "payload": "/b"}],
         "custom": {"type": "halls", "halls": []}},
        {"from": "bot", "text": "还有问题吗？", "buttons": [], "custom": None}]


def test_history_shows_clicked_titles_and_hides_the_opening_payload() -> None:
    slot = {"title": "明天 9:00", "payload": '/choose_slot{"booking_slot":"a|b|c|d|e"}'}
    events = [{"event": "user", "text": "/greet"},
              {"event": "bot", "text": "您好", "data": {}},
              {"event": "user", "text": "天河哪里办身份证"},
              {"event": "bot", "text": "大厅", "data": {"buttons": [], "custom": {"type": "halls",
                                                                            "halls": [{"slots": [slot]}]}}},
              {"event": "user", "text": slot["payload"]},
              {"event": "user", "text": "/unknown_payload"}]
    shown = messages.from_tracker(events)
    assert [(m["from"], m["text"]) for m in shown] == [("bot", "您好"), ("user", "天河哪里办身份证"), ("bot", "大厅"),
                                                        ("user", "明天 9:00")]


def test_the_relay_limit_is_the_rest_channels() -> None:
    assert routes.MAX_MESSAGE == rest.MAX_MESSAGE


@contextmanager
def serving(app: web.Application) -> Iterator[str]:
    """tests.hall_service.serving, entered in a thread of its own: playwright's sync API keeps an event loop
    running in this one, and asyncio refuses to start a second loop in a thread that has one."""
    entered: Queue = Queue()
    leave = threading.Event()

    def run() -> None:
        try:
            with serving_here(app) as url:
                entered.put(url)
                leave.wait()
        except BaseException as error:  # noqa: BLE001 — handed to the test's thread
            entered.put(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    url = entered.get(timeout=60)
    if isinstance(url, BaseException):
        raise url
    try:
        yield url
    finally:
        leave.set()
        thread.join(timeout=30)


class FakeRasa:
    """Stands in for Rasa's REST webhook, answering what a test puts in `answer` (catalog text with HTML in it)."""

    def __init__(self) -> None:
        self.answer: list[dict] = []
        self.received: list[dict] = []

    def app(self) -> web.Application:
        async def webhook(request: web.Request) -> web.Response:
            self.received.append(await request.json())
            return web.json_response(self.answer)

        async def tracker(request: web.Request) -> web.Response:
            return web.json_response({"events": []})

        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", webhook)
        app.router.add_get("/conversations/{sender}/tracker", tracker)
        return app


@pytest.fixture(scope="module")
def fake_rasa() -> Iterator[tuple[FakeRasa, str]]:
    fake = FakeRasa()
    with serving(fake.app()) as url:
        yield fake, url


def hall_service(catalog: Catalog, tmp: Path, rasa_url: str):  # noqa: ANN201 — a context manager
    return serving(create_app(catalog, booking_url=f"sqlite:///{tmp / 'bookings.sqlite3'}", queue_secret="t",
                              rasa_url=rasa_url))


def test_relay_refuses_foreign_senders_and_long_messages(catalog: Catalog, tmp_path: Path,
                                                          fake_rasa: tuple[FakeRasa, str]) -> None:
    fake, rasa_url = fake_rasa
    with hall_service(catalog, tmp_path, rasa_url) as base:
        for sender in ["wechat-openid", "web-" + "0" * 31, "", None, 5]:
            answer = requests.post(f"{base}/chat/api/message", json={"sender": sender, "message": "你好"}, timeout=10)
            assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_sender"
        sender = "web-" + "a" * 32
        too_long = requests.post(f"{base}/chat/api/message", json={"sender": sender, "message": "户" * 1001},
                                 timeout=10)
        assert too_long.status_code == 413 and "太长" in too_long.json()["error"]["message"]
        assert requests.get(f"{base}/chat/api/history", params={"sender": "default"}, timeout=10).status_code == 400
        fake.answer = [{"recipient_id": sender, "text": "您好"}]
        ok = requests.post(f"{base}/chat/api/message", json={"sender": sender, "message": "你好"}, timeout=10)
        assert ok.json()["messages"][0]["text"] == "您好"
        assert ok.headers["Access-Control-Allow-Origin"] == "*"
        assert fake.received[-1] == {"sender": sender, "message": "你好"}
        page = requests.get(f"{base}/chat/", timeout=10)
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
        assert "connect-src 'self'" in page.headers["Content-Security-Policy"]
        assert requests.get(f"{base}/chat/fonts/../../settings.py", timeout=10).status_code == 404


# --- the browser ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pw() -> Iterator[Playwright]:
    problem = ensure_chromium()
    if problem:
        pytest.fail(problem)
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The whole assistant as the run command starts it; yields the hall service's base URL (the page's)."""
    data = tmp_path_factory.mktemp("web")
    halls_port = free_port()
    base = f"http://127.0.0.1:{halls_port}"
    env = {"HUJI_BOOKING_DATABASE_URL": f"sqlite:///{data / 'bookings.sqlite3'}",
           "HUJI_TRACKER_DB_URL": f"sqlite:///{data / 'tracker.sqlite3'}", "HUJI_PUBLIC_URL": base}
    with running_assistant(ensure_model(), free_port(), free_port(), halls_port, env=env):
        yield base


@pytest.fixture()
def browser(pw: Playwright, tmp_path: Path) -> Iterator[callable]:
    """Opens a fresh Chromium profile with the given viewport; closes what it opened."""
    opened: list[BrowserContext] = []

    def open_page(viewport: dict[str, int] = PHONE) -> Page:
        context = pw.chromium.launch_persistent_context(
            tmp_path / f"profile-{len(opened)}", executable_path=str(CHROMIUM), args=ARGS, viewport=viewport,
            locale="zh-CN", service_workers="block")
        opened.append(context)
        page = context.pages[0] if context.pages else context.new_page()
        page.set_default_timeout(ANSWER_SECONDS)
        return page

    yield open_page
    for context in opened:
        context.close()


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def bots(page: Page):  # noqa: ANN201 — a locator
    return page.locator(".huji-log > .huji-bot")


def users(page: Page):  # noqa: ANN201 — a locator: what the citizen said, as shown
    return page.locator(".huji-log > .huji-user .huji-bubble")


def start(page: Page, base: str) -> None:
    page.goto(f"{base}/chat/")
    expect(bots(page).first).to_contain_text("网上户籍室")


def answer_after(page: Page, action) -> float:  # noqa: ANN001 — a callable that clicks or types
    """Do `action`, wait until the next answer is rendered; the seconds it took."""
    before = bots(page).count()
    started = time.perf_counter()
    action()
    bots(page).nth(before).wait_for()
    expect(page.locator(".huji-typing")).to_have_count(0)
    return time.perf_counter() - started


def type_message(page: Page, text: str) -> float:
    def send() -> None:
        page.locator(".huji-input").fill(text)
        page.locator(".huji-input").press("Enter")

    return answer_after(page, send)


def restart(page: Page) -> None:
    page.locator(".huji-restart").click()
    expect(users(page)).to_have_count(0)
    expect(bots(page)).to_have_count(1)
    expect(page.locator(".huji-typing")).to_have_count(0)


def live_choices(page: Page):  # noqa: ANN201 — a locator
    return bots(page).last.locator(".huji-choice:not([disabled])")


def click_until_checklist(page: Page, timings: list[float] | None = None, limit: int = 12) -> None:
    for _ in range(limit):
        if CHECKLIST in bots(page).last.inner_text():
            return
        choice = live_choices(page).first
        expect(choice).to_be_visible()
        took = answer_after(page, choice.click)
        if timings is not None:
            timings.append(took)
    assert CHECKLIST in bots(page).last.inner_text()


def test_consultation_to_its_checklist_by_clicking_buttons(assistant: str, browser) -> None:  # noqa: ANN001
    page = browser(PHONE)
    start(page, assistant)
    shot(page, "phone-normal-greeting")
    type_message(page, SITUATION)
    expect(users(page).last).to_have_text(SITUATION)
    first = live_choices(page).first
    assert first.evaluate("e => e.tagName") == "BUTTON"
    first.focus()  # keyboard: a focused choice is chosen with Enter
    answer_after(page, lambda: page.keyboard.press("Enter"))
    click_until_checklist(page)
    answer = bots(page).last
    notice = answer.locator("a", has_text="告知单").first
    assert notice.get_attribute("target") == "_blank" and "noopener" in notice.get_attribute("rel")
    assert notice.get_attribute("href").startswith(f"{assistant}/api/scenarios/")
    assert answer.locator(".huji-li").count() >= 2, "the checklist is drawn as a list"
    assert page.locator(".huji-log .huji-choice:disabled").count() >= 1, "answered questions' choices are spent"
    shot(page, "phone-normal-checklist")


def test_a_typed_answer_answers_the_question(assistant: str, browser) -> None:  # noqa: ANN001
    page = browser(DESKTOP)
    start(page, assistant)
    type_message(page, SITUATION)
    question = bots(page).last.inner_text()
    label = live_choices(page).first.inner_text()
    type_message(page, label)
    expect(users(page).last).to_have_text(label)
    assert bots(page).last.inner_text() != question, "the typed answer moved the consultation on"
    shot(page, "desktop-normal-consultation")


def valid_id(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


def test_hall_cards_and_a_booking(assistant: str, browser) -> None:  # noqa: ANN001
    page = browser(DESKTOP)
    start(page, assistant)
    type_message(page, "天河哪里可以办身份证")
    cards = bots(page).last.locator(".huji-card.huji-hall")
    assert cards.count() >= 1
    card = cards.first
    expect(card.locator("h3")).to_contain_text("1. ")
    for label in ("地址", "电话", "开放时间"):
        expect(card.locator("dt", has_text=label)).to_have_count(1)
    queue = card.locator(".huji-queue")
    expect(queue).to_be_visible()
    assert ("模拟数据" in queue.inner_text() or "不在办公时间" in queue.inner_text()
            or "没有更新" in queue.inner_text()), queue.inner_text()
    assert "排队" not in bots(page).last.locator(".huji-bubble").first.inner_text(), "the card, not the text, shows it"
    shot(page, "desktop-normal-halls")
    slot = card.locator(".huji-choice").first
    expect(slot).to_be_visible()
    answer_after(page, slot.click)
    assert "姓名" in bots(page).last.inner_text() or "姓名" in bots(page).nth(-2).inner_text()
    person = valid_id(f"4401061985{random.randint(1, 12):02d}{random.randint(1, 28):02d}{random.randint(0, 999):03d}")
    type_message(page, "王小明")
    type_message(page, "139 1234 5678")
    type_message(page, person)
    confirm = bots(page).last.locator(".huji-booking.huji-confirm")
    expect(confirm).to_contain_text("王**")
    expect(confirm).to_contain_text("139****5678")
    assert person not in confirm.inner_text() and person[:6] + "********" in confirm.inner_text()
    answer_after(page, bots(page).last.get_by_role("button", name="确认预约").click)
    booked = bots(page).last.locator(".huji-booking")
    expect(booked).to_contain_text("预约成功")
    code = booked.locator(".huji-code").inner_text()
    assert len(code) == 8 and code.isalnum()
    assert "王小明" not in booked.inner_text() and person not in booked.inner_text()
    shot(page, "desktop-normal-booking")


def test_reload_keeps_the_conversation_and_start_over_clears_it(assistant: str, browser) -> None:  # noqa: ANN001
    page = browser(PHONE)
    start(page, assistant)
    type_message(page, SITUATION)
    choice = live_choices(page).first
    title = choice.inner_text()
    answer_after(page, choice.click)
    question = bots(page).last.locator(".huji-bubble").inner_text()
    sender = page.evaluate("() => localStorage.getItem('huji-chat-sender')")
    page.reload()
    expect(bots(page).last.locator(".huji-bubble")).to_have_text(question)
    expect(users(page)).to_have_text([SITUATION, title])  # the click shows as its title
    assert page.evaluate("() => localStorage.getItem('huji-chat-sender')") == sender
    assert live_choices(page).count() >= 1, "the pending question can still be answered"
    click_until_checklist(page)
    restart(page)
    expect(bots(page).first).to_contain_text("网上户籍室")
    assert page.evaluate("() => localStorage.getItem('huji-chat-sender')") != sender


# the typing dots, drawn where they would be: their animation in the current mode
NO_ANIMATION = """() => {
  const dots = document.createElement("span");
  dots.className = "huji-dots";
  dots.append(document.createElement("span"));
  document.querySelector(".huji-status").append(dots);
  const name = getComputedStyle(dots.firstChild).animationName;
  dots.remove();
  return name;
}"""


def test_elderly_mode_large_type_few_choices_remembered(assistant: str, browser) -> None:  # noqa: ANN001
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page = browser(viewport)
        start(page, assistant)
        type_message(page, SITUATION)
        normal = page.locator(".huji-bubble").first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert page.evaluate(NO_ANIMATION) == "huji-blink", "the normal mode animates the typing dots"
        switch = page.get_by_role("switch")
        switch.click()
        expect(switch).to_have_attribute("aria-checked", "true")
        bubble = page.locator(".huji-bubble").first
        size = bubble.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        spacing = bubble.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
        assert size >= 20 > normal and spacing / size >= 1.5, (size, spacing)
        assert bubble.evaluate("e => getComputedStyle(e).color") == "rgb(0, 0, 0)", "high contrast: black text"
        assert page.evaluate(NO_ANIMATION) == "none"
        group = bots(page).last.locator(".huji-choices")
        total = group.locator(".huji-choice").count()
        assert total > 3, "this question has more than three answers"
        expect(group.locator(".huji-choice:visible")).to_have_count(3)
        more = group.locator(".huji-more")
        expect(more).to_contain_text("更多")
        shot(page, f"{name}-elder-question")
        more.click()
        expect(group.locator(".huji-choice:visible")).to_have_count(min(total, 6))
        page.reload()
        expect(page.get_by_role("switch")).to_have_attribute("aria-checked", "true")
        assert bots(page).first.locator(".huji-bubble").evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize)") >= 20
        if name == "desktop":
            type_message(page, "天河哪里可以办身份证")
            shot(page, "desktop-elder-halls")
        else:
            click_until_checklist(page)
            shot(page, "phone-elder-checklist")


def test_an_injection_attempt_stays_text(assistant: str, browser) -> None:  # noqa: ANN001
    page = browser(PHONE)
    start(page, assistant)
    attack = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    type_message(page, attack)
    expect(users(page).last).to_have_text(attack)
    assert page.locator(".huji-log img, .huji-log script").count() == 0
    assert page.evaluate("() => window.__pwned === undefined")


def test_catalog_text_with_html_stays_text(catalog: Catalog, tmp_path: Path, fake_rasa: tuple[FakeRasa, str],
                                           browser) -> None:  # noqa: ANN001
    fake, rasa_url = fake_rasa
    evil = '<img src=x onerror="window.__pwned=1">'
    fake.answer = [{"recipient_id": "x", "text": f"材料：{evil}\n链接：javascript:window.__pwned=3",
                    "buttons": [{"title": f"按钮{evil}", "payload": "/x"}]},
                   {"recipient_id": "x", "custom": {"type": "halls", "intro": f"大厅{evil}", "note": evil, "halls": [
                       {"number": 1, "name": f"大厅{evil}", "district": "天河", "address": evil, "phone": evil,
                        "hours": evil, "queue": {"text": evil, "status": "live", "simulated": True,
                                                 "open_now": True},
                        "slots": [{"title": evil, "payload": "/y"}], "book": None, "note": evil}]}}]
    with hall_service(catalog, tmp_path, rasa_url) as base:
        page = browser(PHONE)
        page.goto(f"{base}/chat/")
        expect(bots(page).first).to_contain_text("大厅<img")
        type_message(page, "你好")
        assert page.locator(".huji-log img").count() == 0
        assert page.locator(".huji-log a[href^='javascript']").count() == 0
        assert page.evaluate("() => window.__pwned === undefined")
        expect(page.locator(".huji-card h3").first).to_have_text(f"1. 大厅{evil}")


def test_the_assistant_being_down_shows_the_error(catalog: Catalog, tmp_path: Path, browser) -> None:  # noqa: ANN001
    with hall_service(catalog, tmp_path, f"http://127.0.0.1:{free_port()}") as base:  # nothing listens there
        page = browser(PHONE)
        page.goto(f"{base}/chat/")
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("暂时连接不上智能助手")
        expect(alert.get_by_role("button", name="重试")).to_be_visible()
        shot(page, "phone-normal-assistant-down")
        page.locator(".huji-input").fill("孩子出生怎么上户口")
        page.locator(".huji-input").press("Enter")
        expect(page.get_by_role("alert")).to_have_count(2)
        expect(users(page).last).to_have_text("孩子出生怎么上户口")


def test_embedded_on_another_site(assistant: str, browser, tmp_path: Path) -> None:  # noqa: ANN001
    """The README's snippet on a page of another origin: the widget loads its style and talks across origins."""
    site = web.Application()
    snippet = (f'<!doctype html><meta charset="utf-8"><h1>区政府网站</h1><div id="huji-chat" style="height:560px">'
               f'</div><script src="{assistant}/chat/widget.js" defer></script>')
    site.router.add_get("/", lambda request: web.Response(text=snippet, content_type="text/html"))
    with serving(site) as other:
        page = browser(DESKTOP)
        page.goto(other)
        expect(bots(page).first).to_contain_text("网上户籍室")
        type_message(page, "你好")
        assert bots(page).count() >= 2


# In the page: when a choice is clicked, and when the next answer's first message joins the log (performance.now()).
CLOCKS = """() => {
  window.hujiClock = {clicks: [], answers: []};
  document.addEventListener("click", (e) => {
    if (e.target.closest(".huji-choice")) window.hujiClock.clicks.push(performance.now());
  }, true);
  new MutationObserver((changes) => {
    if (changes.some((c) => [...c.addedNodes].some((n) => n.classList && n.classList.contains("huji-bot")))) {
      window.hujiClock.answers.push(performance.now());
    }
  }).observe(document.querySelector(".huji-log"), {childList: true});
}"""


def percentiles(ms: list[float]) -> str:
    ms = sorted(ms)
    return f"p50 {statistics.median(ms):.0f} ms, p90 {ms[int(len(ms) * 0.9) - 1]:.0f} ms, max {ms[-1]:.0f} ms"


def test_click_to_rendered_answer_p50_over_50_clicks(assistant: str, browser) -> None:  # noqa: ANN001
    page = browser(DESKTOP)
    start(page, assistant)
    page.evaluate(CLOCKS)
    driven: list[float] = []  # as the test sees it, playwright's own round trips and polling included
    while len(driven) < 50:
        type_message(page, SITUATION)
        click_until_checklist(page, driven)
        restart(page)
    clock = page.evaluate("() => window.hujiClock")
    clicks = clock["clicks"][:50]
    in_page = [min(a for a in clock["answers"] if a > c) - c for c in clicks]
    print(f"\nclick → rendered answer over {len(in_page)} clicks, in the page: {percentiles(in_page)}; "
          f"as driven by playwright: {percentiles([t * 1000 for t in driven[:50]])}")
    assert len(in_page) == 50 and all(t > 0 for t in in_page)
