"""Command line: ./huji check | stats | build | train | chat | serve | halls | purge | eval | test."""

from __future__ import annotations

import argparse
import subprocess
import sys

from bot.settings import ROOT, actions_port, halls_port, rasa_port


def _check() -> int:
    from bot.catalog.loader import load_catalog
    from bot.catalog.validator import validate
    from bot.settings import SCENARIOS_DIR

    catalog, problems = load_catalog(SCENARIOS_DIR)
    problems += validate(catalog)
    for p in problems:
        print(p)
    trees = ", ".join(f"{code} {len(t.scenarios)}" for code, t in catalog.trees.items())
    print(f"{len(problems)} 个问题；{len(catalog.categories)} 个分类，{catalog.scenario_count} 个情景（{trees}），"
          f"{len(catalog.halls)} 个大厅")
    return 1 if problems else 0


def _build() -> None:
    from bot.build import build

    build()


def _train() -> object:
    from bot.training import ensure_model

    _build()
    return ensure_model()


def _serve(interactive: bool) -> int:
    from bot.services import running_assistant

    model = _train()
    with running_assistant(model, rasa_port(), actions_port(), halls_port()) as base:
        print(f"助手已就绪：REST 接口 {base}/webhooks/rest/webhook ，HTTP API {base}/", flush=True)
        print(_token_note(), flush=True)
        print(f"大厅服务（大厅、实时排队、预约）：http://127.0.0.1:{halls_port()}/api/halls ，"
              f"接口说明 /api/openapi.json ；排队模拟器已在运行", flush=True)
        if interactive:
            from bot.channels.terminal import chat

            chat(base)
        else:
            import time

            while True:
                time.sleep(3600)
    return 0


def _token_note() -> str:
    import os

    from bot.settings import API_TOKEN_FILE

    where = "环境变量 HUJI_API_TOKEN" if os.environ.get("HUJI_API_TOKEN") else f"文件 {API_TOKEN_FILE}"
    return f"HTTP API 需要令牌（请求加 ?token=…），令牌见{where}"


def main(argv: list[str] | None = None) -> int:
    from bot.catalog.problems import CatalogError
    from bot.services import StartupError, install_signal_handlers

    install_signal_handlers()  # SIGTERM stops what this command started, as Ctrl-C does
    try:
        return _main(argv)
    except StartupError as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except CatalogError as error:  # a staff edit broke the catalog: list the problems, not a traceback
        for problem in error.problems:
            print(problem, file=sys.stderr)
        print(f"情景目录有 {len(error.problems)} 个问题，请修正后再运行（./huji check 可单独检查）。", file=sys.stderr)
        return 1


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="huji", description="网上户籍室 assistant")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="validate the scenario catalog")
    sub.add_parser("stats", help="catalog statistics: scenarios, online items, questions asked per category")
    sub.add_parser("build", help="validate, rebuild the database and the generated NLU data")
    sub.add_parser("train", help="build, then train the model if its inputs changed")
    sub.add_parser("chat", help="train if needed, start the servers and chat in the terminal")
    sub.add_parser("serve", help="train if needed and serve REST + HTTP API without a terminal chat")
    halls = sub.add_parser("halls", help="run the hall service alone (halls, live queues, appointments)")
    halls.add_argument("--port", type=int, default=halls_port())
    halls.add_argument("--no-simulator", action="store_true", help="real ticket machines push the queues")
    purge = sub.add_parser("purge", help="blank the personal data of appointments older than HUJI_RETENTION_DAYS")
    purge.add_argument("--days", type=int, help="retention in days after the appointment (default 30)")
    evaluation = sub.add_parser("eval", help="measure the trained NLU and a stock Rasa baseline on held-out messages")
    evaluation.add_argument("--messages", default=str(ROOT / "tests" / "heldout" / "messages.yml"),
                            help="held-out messages (default tests/heldout/messages.yml)")
    evaluation.add_argument("--no-baseline", action="store_true", help="skip the stock Rasa baseline")
    wechat = sub.add_parser("wechat-demo", help="chat through the WeChat channel and a local stand-in for WeChat")
    wechat.add_argument("--plain", action="store_true", help="plain mode (no AES encryption)")
    call = sub.add_parser("call", help="replay a hotline call from a text file of utterances")
    call.add_argument("file")
    call.add_argument("--url", help="a running hotline webhook; default: start the servers")
    sub.add_parser("test", help="build, train if needed, and run the whole test suite (extra arguments go to pytest)")
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "test":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")

    if args.command == "check":
        return _check()
    if args.command == "stats":
        from bot.catalog.loader import load_valid_catalog
        from bot.settings import SCENARIOS_DIR
        from bot.stats import report

        print(report(load_valid_catalog(SCENARIOS_DIR)))
        return 0
    if args.command == "build":
        _build()
        return 0
    if args.command == "train":
        print(_train())
        return 0
    if args.command in ("chat", "serve"):
        try:
            return _serve(interactive=args.command == "chat")
        except KeyboardInterrupt:
            return 0
    if args.command == "halls":
        from bot.api.server import main as serve_halls

        return serve_halls(args.port, simulate=not args.no_simulator)
    if args.command == "purge":
        from bot.booking.service import BookingService
        from bot.catalog.model import Catalog

        service = BookingService.open(Catalog([], {}, {}))  # purging needs no catalog
        try:
            print(f"已清除 {service.purge(args.days)} 条预约的个人信息（保留预约码、时段和状态）")
        finally:
            service.dispose()
        return 0
    if args.command == "eval":
        from pathlib import Path

        from bot.evaluation import evaluate

        evaluate(_train(), Path(args.messages), baseline=not args.no_baseline)
        return 0
    if args.command == "wechat-demo":
        from bot.channels.wechat.demo import demo

        try:
            return demo(_train(), rasa_port(), actions_port(), halls_port(), plain=args.plain)
        except KeyboardInterrupt:
            return 0
    if args.command == "call":
        from pathlib import Path

        from bot.channels.hotline.call import main as call_main

        return call_main(Path(args.file), args.url)
    if args.command == "test":
        _train()
        return subprocess.call([sys.executable, "-m", "pytest", *extra], cwd=ROOT)
    return 2
