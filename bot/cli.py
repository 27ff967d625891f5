"""Command line: ./huji check | stats | build | train | chat | serve | halls | purge | rekey | eval | test."""

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


def _serve(interactive: bool, instances: int = 1) -> int:
    from bot.services import running_assistant

    model = _train()
    if instances > 1:
        return _serve_instances(model, instances)
    with running_assistant(model, rasa_port(), actions_port(), halls_port()) as base:
        print(f"助手已就绪：REST 接口 {base}/webhooks/rest/webhook ，HTTP API {base}/", flush=True)
        print(_token_note(), flush=True)
        print(f"大厅服务（大厅、实时排队、预约）：http://127.0.0.1:{halls_port()}/api/halls ，"
              f"接口说明 /api/openapi.json ；排队模拟器已在运行", flush=True)
        print(f"网页聊天（含长辈版）：http://localhost:{halls_port()}/chat/ ，"
              f"嵌入脚本 http://localhost:{halls_port()}/chat/widget.js", flush=True)
        if interactive:
            from bot.channels.terminal import chat

            chat(base)
        else:
            import time

            while True:
                time.sleep(3600)
    return 0


def _serve_instances(model: object, instances: int) -> int:
    """The production layout on one machine: nginx on the usual ports, the instances on the next ones."""
    import time

    from bot.services import running_instances

    rasa = [rasa_port() + i for i in range(1, instances + 1)]
    actions = [actions_port() + i for i in range(1, instances + 1)]
    with running_instances(model, rasa_port(), rasa, actions_port(), actions, halls_port()) as layout:
        print(f"助手已就绪（{instances} 个 Rasa 实例、{instances} 个动作服务器，nginx 反向代理）："
              f"REST 接口 {layout.proxy}/webhooks/rest/webhook ，HTTP API {layout.proxy}/", flush=True)
        print(f"各 Rasa 实例：{'、'.join(layout.rasa)}", flush=True)
        print(_token_note(), flush=True)
        while True:
            time.sleep(3600)


def _token_note() -> str:
    import os

    from bot.settings import API_TOKEN_FILE

    where = "环境变量 HUJI_API_TOKEN" if os.environ.get("HUJI_API_TOKEN") else f"文件 {API_TOKEN_FILE}"
    return f"HTTP API 需要令牌（请求加 ?token=…），令牌见{where}"


def _rekey() -> int:
    from bot.booking import booking_database_url, migrate
    from bot.booking.engine import make_engine
    from bot.booking.rekey import rekey
    from bot.booking.vault import InvalidToken, Vault

    vault = Vault.configured()
    if not vault.old:
        print("没有旧密钥：请把新密钥设为 HUJI_DATA_KEY，旧密钥设为 HUJI_DATA_KEY_OLD，"
              "停止大厅服务和动作服务器后再运行。")
        return 1
    engine = make_engine(booking_database_url())
    try:
        migrate.upgrade(engine)
        count = rekey(engine, vault)
    except InvalidToken:
        print("有预约不是用 HUJI_DATA_KEY 或 HUJI_DATA_KEY_OLD 中的密钥加密的，未做任何修改。请核对旧密钥。")
        return 1
    finally:
        engine.dispose()
    print(f"已用新密钥重新加密 {count} 条预约（进行中的预约草稿已清除）。之后可以删除 HUJI_DATA_KEY_OLD。")
    return 0


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
    serve = sub.add_parser("serve", help="train if needed and serve REST + HTTP API without a terminal chat")
    serve.add_argument("--instances", type=int, default=1,
                       help="Rasa instances and action servers behind nginx (needs HUJI_REDIS_URL; README)")
    halls = sub.add_parser("halls", help="run the hall service alone (halls, live queues, appointments)")
    halls.add_argument("--port", type=int, default=halls_port())
    halls.add_argument("--no-simulator", action="store_true", help="real ticket machines push the queues")
    purge = sub.add_parser("purge", help="blank the personal data of appointments older than HUJI_RETENTION_DAYS")
    purge.add_argument("--days", type=int, help="retention in days after the appointment (default 30)")
    sub.add_parser("rekey", help="re-encrypt stored personal data with HUJI_DATA_KEY (old keys: HUJI_DATA_KEY_OLD)")
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
            return _serve(interactive=args.command == "chat", instances=getattr(args, "instances", 1))
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
    if args.command == "rekey":
        return _rekey()
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
        from bot.debian import ensure_test_packages

        # the widget's browser tests drive Debian's chromium, the several-instance test nginx (apt, never a download)
        for problem in ensure_test_packages():
            print(problem, file=sys.stderr)
        return subprocess.call([sys.executable, "-m", "pytest", *extra], cwd=ROOT)
    return 2
