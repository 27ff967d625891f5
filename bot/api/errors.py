"""Every error the API returns: an HTTP status, a machine-readable code and a polite Chinese message."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .responses import json_response

log = logging.getLogger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **details: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_response(status: int, code: str, message: str, **details: Any) -> web.Response:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details:
        body["error"]["details"] = details
    return json_response(body, status)


_HTTP_MESSAGES = {
    404: ("not_found", "没有这个接口地址，请查看 /api/openapi.json。"),
    405: ("method_not_allowed", "这个接口不支持该请求方法。"),
    413: ("payload_too_large", "请求内容太大。"),
}


@web.middleware
async def error_middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                           ) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as e:
        return error_response(e.status, e.code, e.message, **e.details)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        code, message = _HTTP_MESSAGES.get(e.status, ("http_error", e.reason))
        return error_response(e.status, code, message)
    except Exception:  # a bug, never bad input: log it, answer in the same shape
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "internal_error", "服务暂时出现问题，请稍后再试。")


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, or a 400 that says what is wrong with it."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "payload_too_large", "请求内容太大。") from None
    if not raw.strip():
        raise ApiError(400, "empty_body", "请求内容为空，请发送 JSON 对象。")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # deep nesting is garbage too
        raise ApiError(400, "invalid_json", "请求内容不是有效的 JSON。") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "请求内容应为 JSON 对象。")
    return body
