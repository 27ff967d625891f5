"""Rasa's REST channel with the checks a public endpoint needs.

Registered in credentials.yml as `bot.channels.rest.RestInput`; it keeps the name `rest`, so the URL stays
`/webhooks/rest/webhook`. A message without a sender is refused (otherwise every anonymous client would share the
conversation `default`), and a message over MAX_MESSAGE characters is answered politely without being parsed.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request

from bot.channels import ratelimit

MAX_MESSAGE = 1000
MAX_SENDER = 128
TOO_LONG = "您的消息太长了，请简要描述您要办理的业务。"


def _error(text: str) -> response.HTTPResponse:
    return response.json({"error": text}, status=400)


def check(body: Any) -> response.HTTPResponse | None:
    """The answer to a message that must not reach the assistant, or None when it may."""
    if not isinstance(body, dict):
        return _error('请求体必须是 JSON 对象，例如 {"sender": "会话标识", "message": "你好"}。')
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        return _error("缺少 sender（会话标识）：请为每位用户提供一个唯一的 sender，否则无法区分各自的咨询。")
    if len(sender) > MAX_SENDER:
        return _error(f"sender（会话标识）过长：最多 {MAX_SENDER} 个字符。")
    message = body.get("message")
    if not isinstance(message, str):
        return _error("缺少 message（消息内容），或 message 不是文本。")
    if len(message) > MAX_MESSAGE:
        return response.json([{"recipient_id": sender, "text": TOO_LONG}])
    return None


class RestInput(RasaRestInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def refuse(request: Request) -> response.HTTPResponse | None:
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            try:
                body = request.json
            except Exception:  # noqa: BLE001 — sanic raises its own InvalidUsage for a body that is not JSON
                body = None
            refused = check(body)
            if refused is None and not await ratelimit.allow(body["sender"]):
                return response.json([{"recipient_id": body["sender"], "text": ratelimit.TOO_FAST}])
            return refused

        return webhook
