"""Latency of the WeChat channel's passive replies, through the stand-in and the real trained assistant.

    python bench/wechat_bench.py [--messages 200] [--plain]

Starts hall service, actions and Rasa (safe mode unless --plain) with the stand-in's API as HUJI_WECHAT_API_BASE,
then sends `messages` text messages one after another from 20 citizens (greetings, consultations and numbered
choices), each timed from the POST to the passive reply. Prints p50/p95/max of passive replies and how many
answers fell back to 客服消息 (the turn took longer than the passive deadline, or the answer needed several
messages). A script, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")

from bot.channels.wechat.protocol import DEFAULTS  # noqa: E402
from bot.channels.wechat.standin import WeChatStandIn  # noqa: E402
from bot.services import running_assistant  # noqa: E402
from bot.training import ensure_model  # noqa: E402
from tests.hall_service import free_port  # noqa: E402

SCRIPT = ["你好", "孩子刚出生怎么上户口", "1", "1", "天河哪里可以办身份证", "谢谢", "我要转人工", "重新开始",
          "身份证丢了怎么补办", "2"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--plain", action="store_true")
    args = parser.parse_args()
    aes_key = "" if args.plain else DEFAULTS["HUJI_WECHAT_AES_KEY"]
    standin = WeChatStandIn(aes_key=aes_key)
    api = standin.start_api()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"HUJI_WECHAT_AES_KEY": aes_key, "HUJI_WECHAT_API_BASE": api,
               "HUJI_BOOKING_DATABASE_URL": f"sqlite:///{tmp}/bookings.sqlite3"}
        with running_assistant(ensure_model(), free_port(), free_port(), free_port(), env=env,
                               log_dir=Path(tmp)) as base:
            standin.webhook = f"{base}/webhooks/wechat/webhook"
            standin.say("oWarmUp", "你好")  # the first turn loads lazily; not counted
            passive: list[float] = []
            fallback = refused = 0
            for n in range(args.messages):
                openid = f"oBench{n % 20:02d}"
                text = SCRIPT[(n // 20) % len(SCRIPT)]
                exchange = standin.post(standin.message_xml(openid, Content=text))
                if exchange.status != 200:
                    refused += 1
                elif exchange.passive is not None:
                    passive.append(exchange.seconds * 1000)
                else:
                    fallback += 1
            time.sleep(2)
            mode = "plain" if args.plain else "safe"
            print(f"{args.messages} messages ({mode} mode): {len(passive)} passive, {fallback} by 客服消息, "
                  f"{refused} refused; 客服消息 received by the stand-in: {len(standin.custom)}")
            if passive:
                print(f"passive reply latency: p50 {statistics.median(passive):.0f} ms, "
                      f"p95 {percentile(passive, 95):.0f} ms, max {max(passive):.0f} ms")
    standin.stop()
    return 1 if refused else 0


if __name__ == "__main__":
    raise SystemExit(main())
