"""Routes of the web chat on the hall service: the page, its script and style, and the relay to Rasa.

GET /chat/ is the page; /chat/widget.js and /chat/widget.css are what other pages embed. POST /chat/api/message
{"sender", "message"} relays one turn to Rasa's REST webhook; GET /chat/api/history?sender= gives the
conversation so far (masked, from Rasa's tracker) so that a reload shows it again. Only senders the widget makes
(`web-` and 32 hex digits) are accepted, so the relay can reach no other channel's conversations.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.api.errors import ApiError, json_body
from bot.api.responses import json_response
from bot.settings import HOTLINE, api_token, rasa_port

from . import messages

STATIC = Path(__file__).parent / "static"
FONTS = Path(__file__).parents[2] / "documents" / "fonts"  # the notice sheets' Noto Sans SC, for devices without CJK
FONT_FILES = ("NotoSansSC-Regular.otf", "NotoSansSC-Bold.otf")
FILES = {"widget.js": "application/javascript", "widget.css": "text/css", "index.html": "text/html"}
RASA_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=3)
MAX_MESSAGE = 1000  # as bot.channels.rest.MAX_MESSAGE (not imported: that loads Rasa into the hall service)
UNREACHABLE = f"暂时连接不上智能助手，请稍后再试。急需咨询可拨打 {HOTLINE}。"
# The page loads and talks to its own origin only; the assistant is reached through this origin's relay.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
       "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
# Other origins embed the script: the relay answers them too (no cookies: the random sender id is the only key).
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "600"}


class Rasa:
    """The assistant as the relay reaches it: Rasa's REST webhook and, with the API token, its tracker."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=RASA_TIMEOUT)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def send(self, sender: str, text: str) -> list[dict]:
        return await self._json("POST", "/webhooks/rest/webhook", json={"sender": sender, "message": text})

    async def events(self, sender: str) -> list[dict]:
        tracker = await self._json("GET", f"/conversations/{sender}/tracker", params={"token": api_token()})
        return tracker.get("events") or [] if isinstance(tracker, dict) else []

    async def _json(self, method: str, path: str, **kwargs: object) -> object:
        try:
            async with self.session().request(method, self.base_url + path, **kwargs) as answer:
                if answer.status != 200:
                    raise ApiError(502, "assistant_error", UNREACHABLE)
                return await answer.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            raise ApiError(503, "assistant_unreachable", UNREACHABLE) from None


RASA = web.AppKey("web_chat_rasa", Rasa)
routes = web.RouteTableDef()


def _sender(value: object) -> str:
    if not isinstance(value, str) or not messages.SENDER.match(value):
        raise ApiError(400, "invalid_sender",
                       "会话标识 sender 无效：请使用聊天窗口生成的标识（web- 加 32 位十六进制）。")
    return value


def _static(name: str, csp: bool = False) -> web.Response:
    headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
    if csp:
        headers["Content-Security-Policy"] = CSP
        headers["Referrer-Policy"] = "no-referrer"
    else:
        headers.update(CORS)  # the script and style load on embedding pages
    return web.Response(body=(STATIC / name).read_bytes(), content_type=FILES[name], charset="utf-8",
                        headers=headers)


@routes.get("/chat")
async def chat_redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/chat/")


@routes.get("/chat/")
async def page(request: web.Request) -> web.Response:
    return _static("index.html", csp=True)


@routes.get("/chat/widget.js")
async def script(request: web.Request) -> web.Response:
    return _static("widget.js")


@routes.get("/chat/widget.css")
async def style(request: web.Request) -> web.Response:
    return _static("widget.css")


@routes.get("/chat/fonts/{name}")
async def font(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in FONT_FILES:
        raise ApiError(404, "not_found", "没有这个字体文件。")
    return web.Response(body=(FONTS / name).read_bytes(), content_type="font/otf",
                        headers={"Cache-Control": "public, max-age=604800", **CORS})


@routes.post("/chat/api/message")
async def message(request: web.Request) -> web.Response:
    body = await json_body(request)
    sender = _sender(body.get("sender"))
    text = body.get("message")
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "empty_message", "消息内容为空，请输入您要咨询的问题。")
    if len(text) > MAX_MESSAGE:  # Rasa's channel answers the same; saying it here spares the trip
        raise ApiError(413, "message_too_long", f"消息太长了（最多 {MAX_MESSAGE} 字），请简要描述您要办理的业务。")
    replies = await request.app[RASA].send(sender, text)
    return json_response({"messages": messages.from_rest(replies if isinstance(replies, list) else [])})


@routes.get("/chat/api/history")
async def history(request: web.Request) -> web.Response:
    sender = _sender(request.query.get("sender"))
    return json_response({"messages": messages.from_tracker(await request.app[RASA].events(sender))})


@routes.route("OPTIONS", "/chat/api/{name}")
async def preflight(request: web.Request) -> web.Response:
    return web.Response(status=204)


async def _cors(request: web.Request, answer: web.StreamResponse) -> None:
    """Every relay answer, errors included (they are made by the service's error middleware), carries CORS."""
    if request.path.startswith("/chat/api/"):
        answer.headers.update(CORS)


def setup(app: web.Application, rasa_url: str | None = None) -> None:
    """Serve the chat; `rasa_url` defaults to HUJI_RASA_URL (set by the run command), else Rasa's local port."""
    app[RASA] = rasa = Rasa(rasa_url or os.environ.get("HUJI_RASA_URL") or f"http://127.0.0.1:{rasa_port()}")
    app.add_routes(routes)
    app.on_response_prepare.append(_cors)

    async def close(_: web.Application) -> None:
        await rasa.close()

    app.on_cleanup.append(close)
