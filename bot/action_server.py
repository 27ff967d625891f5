"""The action server (rasa_sdk's app) that answers only Rasa: every call but GET /health must carry the shared secret.

Rasa sends it as `?token=` (endpoints.yml `action_endpoint.token`); other clients may send `Authorization: Bearer`.
Run as `python -m bot.action_server --actions actions --port N`, with the arguments of `python -m rasa_sdk`.
"""

from __future__ import annotations

import hmac
import logging
import os

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
from rasa_sdk.endpoint import create_app, create_argument_parser
from rasa_sdk.plugin import plugin_manager
from sanic import Sanic, response
from sanic.request import Request

OPEN_PATHS = frozenset({"/health"})  # the supervisor's readiness probe; it reveals nothing
UNAUTHORIZED = "缺少或错误的动作服务器令牌：只有 Rasa 可以调用动作服务器。"


def presented_token(request: Request) -> str | None:
    token = request.args.get("token")
    if token:
        return token
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def token_matches(expected: str, presented: str | None) -> bool:
    """Constant time, so the response time tells nothing about how much of a guess was right."""
    return bool(presented) and hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


def require_token(app: Sanic, token: str) -> Sanic:
    if not token:
        raise ValueError("the action-server token is empty")

    @app.middleware("request")
    async def refuse_without_token(request: Request) -> response.HTTPResponse | None:
        if request.path in OPEN_PATHS or token_matches(token, presented_token(request)):
            return None
        return response.json({"error": UNAUTHORIZED}, status=401)

    return app


def main() -> None:
    from bot.settings import actions_token

    args = create_argument_parser().parse_args()
    logging.getLogger("matplotlib").setLevel(logging.WARN)  # as rasa_sdk's own main does
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel,
                                 args.logging_config_file)
    utils.update_sanic_log_level()

    app = require_token(create_app(args.actions, cors_origins=args.cors, auto_reload=args.auto_reload),
                        actions_token())
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    host = os.environ.get("SANIC_HOST", "127.0.0.1")
    app.run(host, args.port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
