"""Latency of the WeChat channel's passive replies, through the stand-in and the real trained assistant.

    python bench/wechat_bench.py [--messages 200] [--plain] [--redis [URL]]

Starts hall service, actions and Rasa (safe mode unless --plain) with the stand-in's API as HUJI_WECHAT_API_BASE,
then sends `messages` text messages one after another from 20 citizens (greetings, consultations and numbered
choices), each timed from the POST to the passive reply. Prints p50/p95/max of passive replies and how many
answers fell back to 客服消息, split by why: the turn took longer than the passive deadline, or the answer needed
several messages (those go by 客服消息 at once, in order). With --redis the replay records and the access token are
in Redis (as with several processes), under a throwaway prefix removed afterwards. A script, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
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
    parser.add_argument("--redis", nargs="?", const="redis://127.0.0.1:6379/0", default=None)
    args = parser.parse_args()
    prefix = f"huji-bench:{uuid.uuid4().hex[:8]}:wechat:"
    aes_key = "" if args.plain else DEFAULTS["HUJI_WECHAT_AES_KEY"]
    standin = WeChatStandIn(aes_key=aes_key)
    api = standin.start_api()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"HUJI_WECHAT_AES_KEY": aes_key, "HUJI_WECHAT_API_BASE": api,
               "HUJI_BOOKING_DATABASE_URL": f"sqlite:///{tmp}/bookings.sqlite3", "HUJI_WECHAT_PASSIVE_SECONDS": "4"}
        if args.redis:
            env.update({"HUJI_REDIS_URL": args.redis, "HUJI_WECHAT_REDIS_PREFIX": prefix})
        else:
            os.environ.pop("HUJI_REDIS_URL", None)
        with running_assistant(ensure_model(), free_port(), free_port(), free_port(), env=env,
                               log_dir=Path(tmp)) as base:
            standin.webhook = f"{base}/webhooks/wechat/webhook"
            standin.say("oWarmUp", "你好")  # the first turn loads lazily; not counted
            passive: list[float] = []
            late = several = refused = 0
            for n in range(args.messages):
                openid = f"oBench{n % 20:02d}"
                text = SCRIPT[(n // 20) % len(SCRIPT)]
                exchange = standin.post(standin.message_xml(openid, Content=text))
                if exchange.status != 200:
                    refused += 1
                elif exchange.passive is not None:
                    passive.append(exchange.seconds * 1000)
                elif exchange.seconds >= 3.9:  # "success" at the passive deadline: the turn was too slow
                    late += 1
                else:  # "success" at once: several messages, sent in order by 客服消息
                    several += 1
            time.sleep(2)
            mode = ("plain" if args.plain else "safe") + (" mode, Redis store" if args.redis else " mode")
            print(f"{args.messages} messages ({mode}): {len(passive)} passive, {late + several} by 客服消息 "
                  f"({late} past the 4 s deadline, {several} too long for one message), {refused} refused; "
                  f"客服消息 received by the stand-in: {len(standin.custom)}")
            if passive:
                print(f"passive reply latency: p50 {statistics.median(passive):.0f} ms, "
                      f"p95 {percentile(passive, 95):.0f} ms, max {max(passive):.0f} ms")
    standin.stop()
    if args.redis:
        import redis

        client = redis.Redis.from_url(args.redis)
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
    return 1 if refused else 0


if __name__ == "__main__":
    raise SystemExit(main())
