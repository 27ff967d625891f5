"""Sending the full answer by SMS: the interface the hotline system would offer, and a local stand-in.

The hotline system knows the caller's number; the assistant only says which call the message is for. In
production `sms_url` in credentials.yml points at the hotline system's endpoint (POST JSON
{"call_id", "text", "link"}); without it the stand-in appends each message to a JSON-lines file
(`HUJI_HOTLINE_SMS_LOG`, default build/hotline-sms.jsonl) so demos and tests can see what was sent.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Protocol

import aiohttp

from bot.settings import BUILD_DIR


class SmsSender(Protocol):
    async def send(self, call_id: str, text: str, link: str) -> bool: ...


def sms_log_path() -> Path:
    return Path(os.environ.get("HUJI_HOTLINE_SMS_LOG") or BUILD_DIR / "hotline-sms.jsonl")


class RecordingSms:
    """Local stand-in: records what would be sent."""

    def __init__(self, path: Path | None = None):
        self.path = path or sms_log_path()

    async def send(self, call_id: str, text: str, link: str) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        record = {"call_id": call_id, "text": text, "link": link, "at": time.time()}
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        return True


class HttpSms:
    """The hotline system's SMS endpoint."""

    def __init__(self, url: str, timeout: float = 5.0):
        self.url, self.timeout = url, timeout

    async def send(self, call_id: str, text: str, link: str) -> bool:
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            body = {"call_id": call_id, "text": text, "link": link}
            async with aiohttp.ClientSession(timeout=timeout) as session, session.post(self.url, json=body) as r:
                return r.status < 300
        except (aiohttp.ClientError, TimeoutError):
            return False


def recorded(call_id: str, path: Path | None = None) -> list[dict]:
    path = path or sms_log_path()
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [r for r in map(json.loads, filter(None, lines)) if r["call_id"] == call_id]
