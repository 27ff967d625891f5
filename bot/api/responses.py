"""Successful and error answers alike are JSON with readable Chinese (no \\uXXXX escapes)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))
