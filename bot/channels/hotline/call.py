"""`./huji call FILE`: replays a call from a text file of utterances against the hotline channel.

One utterance a line; `#` starts a comment; `按键 1` (or `dtmf 1`) presses a key; `@0.4 我想补办身份证` sends the
text with recognizer confidence 0.4; an empty utterance is written `<静音>`. With `--url` the running assistant's
webhook is used, otherwise the servers are started as `./huji chat` does.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import requests

KEY = re.compile(r"^(?:按键|dtmf)\s*([0-9*#])$", re.I)
CONFIDENCE = re.compile(r"^@([01](?:\.\d+)?)\s+(.*)$")


def turns(path: Path) -> list[dict]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if m := KEY.match(line):
            out.append({"dtmf": m.group(1)})
        elif m := CONFIDENCE.match(line):
            out.append({"text": m.group(2), "confidence": float(m.group(1))})
        else:
            out.append({"text": "" if line == "<静音>" else line})
    return out


def replay(webhook: str, path: Path, call_id: str | None = None) -> int:
    call_id = call_id or f"call-{uuid.uuid4().hex[:8]}"
    print(f"通话 {call_id}（{path}）\n")
    for turn in turns(path):
        said = f"[按键 {turn['dtmf']}]" if "dtmf" in turn else turn["text"] or "（静音）"
        print(f"来电人：{said}" + (f"  (置信度 {turn['confidence']})" if "confidence" in turn else ""))
        r = requests.post(webhook, json={"call_id": call_id, **turn}, timeout=60)
        body = r.json()
        if r.status_code != 200:
            print(f"  错误 {r.status_code}：{body}")
            continue
        print(f"助手：{body['speech']}")
        if body.get("transfer"):
            print(f"  → 转人工；案情摘要：{body.get('summary')}")
            return 0
        if body.get("end_call"):
            print("  → 通话结束")
            return 0
        print()
    return 0


def main(path: Path, url: str | None) -> int:
    if not path.exists():
        print(f"找不到文件：{path}")
        return 2
    if url:
        return replay(url, path)
    from bot.cli import _train
    from bot.services import running_assistant
    from bot.settings import actions_port, halls_port, rasa_port

    with running_assistant(_train(), rasa_port(), actions_port(), halls_port()) as base:
        return replay(f"{base}/webhooks/hotline/webhook", path)
