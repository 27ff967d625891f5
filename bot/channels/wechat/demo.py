"""`./huji wechat-demo`: the assistant behind the WeChat channel, driven from the terminal through the stand-in."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from bot.channels.wechat.protocol import with_defaults
from bot.channels.wechat.standin import WeChatStandIn, texts


def show(exchange, started: float) -> None:
    how = "被动回复" if exchange.passive is not None else "客服消息"
    if exchange.status != 200:
        print(f"（渠道返回 HTTP {exchange.status}）\n")
        return
    replies = texts(exchange)
    for text in replies:
        print(f"公众号：{text}\n")
    size = "、".join(f"{len(t.encode('utf-8'))}" for t in replies)
    print(f"（{how}，{time.monotonic() - started:.2f} 秒，{len(replies)} 条，字节数 {size or 0}）\n")


def demo(model: Path, rasa_port: int, actions_port: int, halls_port: int, plain: bool = False) -> int:
    from bot.services import running_assistant

    env = with_defaults()
    aes_key = "" if plain else env["HUJI_WECHAT_AES_KEY"]
    standin = WeChatStandIn(token=env["HUJI_WECHAT_TOKEN"], appid=env["HUJI_WECHAT_APPID"], aes_key=aes_key,
                            secret=env["HUJI_WECHAT_SECRET"])
    api = standin.start_api()
    overrides = {"HUJI_WECHAT_API_BASE": api, "HUJI_WECHAT_AES_KEY": aes_key}
    try:
        with running_assistant(model, rasa_port, actions_port, halls_port, env=overrides) as base:
            standin.webhook = f"{base}/webhooks/wechat/webhook"
            echo = secrets.token_hex(6)
            check = standin.url_check(echo)
            print(f"微信公众号渠道：{standin.webhook}（{'明文' if plain else '安全'}模式），"
                  f"URL 校验 {'通过' if check.text == echo else '失败'}；客服消息接口（模拟）：{api}")
            print("模拟微信用户已关注公众号（输入 /退出 结束；有选项时回复序号）\n")
            openid = "o" + secrets.token_hex(13)
            started = time.monotonic()
            show(standin.post(standin.message_xml(openid, "event", Event="subscribe", EventKey="")), started)
            while True:
                try:
                    text = input("您：").strip()
                except (EOFError, KeyboardInterrupt):
                    print()
                    return 0
                if text in ("/退出", "/exit", "/quit"):
                    return 0
                if text:
                    started = time.monotonic()
                    show(standin.say(openid, text), started)
    finally:
        standin.stop()
