"""A terminal chat over Rasa's REST channel; buttons are numbered and can be chosen by number."""

from __future__ import annotations

import uuid

import requests

PROMPT = "您："


def send(base_url: str, sender: str, message: str) -> list[dict]:
    response = requests.post(f"{base_url}/webhooks/rest/webhook",
                             json={"sender": sender, "message": message}, timeout=60)
    response.raise_for_status()
    return response.json()


def show(replies: list[dict]) -> list[dict]:
    buttons: list[dict] = []
    for reply in replies:
        if reply.get("text"):
            print(f"助手：{reply['text']}\n")
        for button in reply.get("buttons") or []:
            buttons.append(button)
            print(f"  [{len(buttons)}] {button['title']}")
    if buttons:
        print()
    return buttons


def chat(base_url: str) -> None:
    sender = f"terminal-{uuid.uuid4().hex[:8]}"
    print("网上户籍室智能助手（输入 /退出 结束；有选项时可输入序号）\n")
    buttons = show(send(base_url, sender, "你好"))
    while True:
        try:
            text = input(PROMPT).strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return
        if text in ("/退出", "/exit", "/quit"):
            return
        if not text:
            continue
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            choice = buttons[int(text) - 1]
            print(f"（已选：{choice['title']}）")
            text = choice["payload"]
        buttons = show(send(base_url, sender, text))
