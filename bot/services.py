"""Starts the action server and the Rasa server as child processes and waits until they answer."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import requests

from bot.settings import BUILD_DIR, ROOT, actions_token, api_token, bind_host, tracker_db_url

STARTUP_TIMEOUT = float(os.environ.get("HUJI_STARTUP_TIMEOUT") or 180)  # a loaded machine needs more


class StartupError(RuntimeError):
    """The assistant cannot start (a port is taken, a server died or never answered): a message for the user."""


def ensure_port_free(host: str, port: int, what: str, variable: str) -> None:
    """Refuse to start on a port something already holds, rather than talk to whatever answers there."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do: TIME_WAIT is no owner
        try:
            probe.bind((host, port))
        except OSError as error:
            raise StartupError(f"端口 {port} 已被占用（{what}），无法启动：可能是上次没有退出的助手或其他程序。"
                               f"请先结束占用该端口的进程，或用环境变量 {variable} 换一个端口。（{error.strerror}）"
                               ) from None


def _die_with_parent() -> None:  # runs in the child before exec: Linux sends SIGTERM when this process dies
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def install_signal_handlers() -> None:
    """SIGTERM (kill, systemd, docker stop) and SIGINT unwind like Ctrl-C, so every `finally` stops what it started."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    # a command started in the background by a script inherits SIGINT ignored, and Python then leaves it so
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _wait(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartupError(f"进程意外退出（{process.returncode}），日志：{log}\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise StartupError(f"{url.split('?')[0]} 在 {STARTUP_TIMEOUT:.0f} 秒内没有就绪，日志：{log}")


@contextmanager
def running_assistant(model: Path, rasa_port: int, actions_port: int, halls_port: int,
                      env: dict[str, str] | None = None, log_dir: Path = BUILD_DIR / "logs",
                      start_halls: bool = True) -> Iterator[str]:
    """Run the hall service (with the queue simulator), actions and Rasa; yield the Rasa base URL.

    Several instances (running_instances) start the hall service once, and may point Rasa at a proxy of all action
    servers (`HUJI_ACTIONS_URL` in `env`)."""
    log_dir.mkdir(parents=True, exist_ok=True)
    from bot.channels.wechat.protocol import with_defaults  # credentials.yml expands the HUJI_WECHAT_* variables

    extra = env
    env = {**with_defaults(os.environ), **(env or {})}
    host = env.get("HUJI_BIND") or bind_host()  # what the three servers listen on
    near = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # where this process and Rasa reach them
    env.update({"HUJI_BIND": host, "SANIC_HOST": host,  # rasa_sdk 3.6 reads its listening address from SANIC_HOST
                "HUJI_HALLS_URL": (extra or {}).get("HUJI_HALLS_URL") or f"http://{near}:{halls_port}",
                "HUJI_ACTIONS_URL": (extra or {}).get("HUJI_ACTIONS_URL")  # endpoints.yml expands these two
                or f"http://{near}:{actions_port}/webhook",
                "HUJI_TRACKER_DB_URL": env.get("HUJI_TRACKER_DB_URL") or tracker_db_url(),
                "HUJI_API_TOKEN": env.get("HUJI_API_TOKEN") or api_token(),
                "HUJI_ACTIONS_TOKEN": env.get("HUJI_ACTIONS_TOKEN") or actions_token()})  # endpoints.yml sends it
    if env["HUJI_TRACKER_DB_URL"].startswith("sqlite:///"):
        Path(env["HUJI_TRACKER_DB_URL"][len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    env["HUJI_RASA_URL"], env["HUJI_MODEL_VERSION"] = f"http://{near}:{rasa_port}", model.name  # for GET /health
    for port, what, variable in [(halls_port, "大厅服务", "HUJI_HALLS_PORT"), (actions_port, "动作服务器",
                                 "HUJI_ACTIONS_PORT"), (rasa_port, "Rasa 服务", "HUJI_RASA_PORT")][not start_halls:]:
        ensure_port_free(host, port, what, variable)
    # own session (a terminal's Ctrl-C reaches only us, and we stop the servers in order); die with us if killed
    child = {"cwd": ROOT, "env": env, "stderr": subprocess.STDOUT, "start_new_session": True,
             "preexec_fn": _die_with_parent}
    processes: list[subprocess.Popen] = []
    try:
        halls_log = log_dir / f"halls-{halls_port}.log"
        halls = subprocess.Popen([sys.executable, "-m", "bot", "halls", "--port", str(halls_port)],
                                 stdout=halls_log.open("w"), **child) if start_halls else None
        processes += [halls] if halls else []
        actions_log = log_dir / f"actions-{actions_port}.log"
        actions = subprocess.Popen(
            [sys.executable, "-m", "bot.action_server", "--actions", "actions", "--port", str(actions_port)],
            stdout=actions_log.open("w"), **child)
        processes.append(actions)
        rasa_log = log_dir / f"rasa-{rasa_port}.log"
        rasa = subprocess.Popen(
            [sys.executable, "-m", "rasa", "run", "--enable-api", "--auth-token", env["HUJI_API_TOKEN"],
             "--cors", "*", "-i", host, "--port", str(rasa_port),
             "--model", str(model), "--endpoints", "endpoints.yml", "--credentials", "credentials.yml"],
            stdout=rasa_log.open("w"), **child)
        processes.append(rasa)
        if halls:
            _wait(f"http://{near}:{halls_port}/api/openapi.json", halls, halls_log)
        _wait(f"http://{near}:{actions_port}/health", actions, actions_log)
        base = f"http://{near}:{rasa_port}"
        _wait(f"{base}/status?token={env['HUJI_API_TOKEN']}", rasa, rasa_log)
        for p, log in [(halls, halls_log), (actions, actions_log), (rasa, rasa_log)][not halls:]:
            if p.poll() is not None:  # what answered was not ours
                raise StartupError(f"进程意外退出（{p.returncode}），日志：{log}")
        yield base
    finally:
        _stop(processes)


STOP_SECONDS = 10.0  # one shared grace period: stopping must not take the sum of every child's


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to all at once, then SIGKILL to whatever is still running when the grace period is over."""
    for p in reversed(processes):
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for p in processes:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


PROXY_TEMPLATE = ROOT / "deploy" / "nginx.conf.template"


@dataclass(frozen=True)
class Layout:
    """Several instances running: the proxy clients talk to, and each Rasa instance's own URL."""

    proxy: str
    rasa: list[str]


def proxy_config(prefix: Path, host: str, proxy_port: int, rasa: list[str], actions_port: int,
                 actions: list[str]) -> str:
    """deploy/nginx.conf.template filled in: upstreams of all Rasa instances and of all action servers."""
    user = ""
    if os.geteuid() == 0:  # nginx started by root hands its workers to `nobody`, who cannot write under `prefix`
        import pwd

        user = f"user {pwd.getpwuid(0).pw_name};"
    values = {"USER": user, "PREFIX": str(prefix), "BIND": host, "PROXY_PORT": str(proxy_port),
              "ACTIONS_PORT": str(actions_port),
              "RASA_SERVERS": " ".join(f"server {a} max_fails=1 fail_timeout=5s;" for a in rasa),
              "ACTIONS_SERVERS": " ".join(f"server {a} max_fails=1 fail_timeout=5s;" for a in actions)}
    text = PROXY_TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    return text


@contextmanager
def running_proxy(config: str, prefix: Path, check_url: str) -> Iterator[None]:
    """nginx in the foreground as our child, with its pid, logs and temporary files under `prefix`."""
    import shutil

    nginx = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if not nginx:
        raise StartupError("需要 nginx 作为反向代理：请以 root 运行 apt-get install nginx-light"
                           "（见 deploy/README.md）。")
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(config, encoding="utf-8")
    log = prefix / "nginx.log"
    process = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"],
                               stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True,
                               preexec_fn=_die_with_parent)
    try:
        _wait(check_url, process, log)
        yield
    finally:
        process.terminate()  # SIGTERM: nginx's fast shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def running_instances(model: Path, proxy_port: int, rasa_ports: list[int], actions_proxy_port: int,
                      actions_ports: list[int], halls_port: int, env: dict[str, str] | None = None,
                      log_dir: Path = BUILD_DIR / "logs") -> Iterator[Layout]:
    """One hall service, len(rasa_ports) Rasa instances and as many action servers, behind nginx.

    Clients use the proxy (`proxy_port`), which spreads requests over the Rasa instances; every Rasa calls the
    action servers through the proxy's second port. The instances share the tracker store (HUJI_TRACKER_DB_URL) and
    the conversation locks (HUJI_REDIS_URL), so any instance can take any turn of any conversation."""
    env = dict(env or {})
    if len(rasa_ports) > 1 and not (env.get("HUJI_REDIS_URL") or os.environ.get("HUJI_REDIS_URL")):
        raise StartupError("多个 Rasa 实例要共用 Redis 才能让同一会话按顺序处理：请设置 HUJI_REDIS_URL"
                           "（例如 redis://127.0.0.1:6379/0）。")
    host = env.get("HUJI_BIND") or bind_host()
    near = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    env.setdefault("HUJI_HALLS_URL", f"http://{near}:{halls_port}")
    env["HUJI_ACTIONS_URL"] = f"http://{near}:{actions_proxy_port}/webhook"
    env["HUJI_API_TOKEN"] = env.get("HUJI_API_TOKEN") or api_token()
    ensure_port_free(host, proxy_port, "反向代理", "HUJI_RASA_PORT")
    ensure_port_free(host, actions_proxy_port, "动作服务器代理", "HUJI_ACTIONS_PORT")
    config = proxy_config(log_dir / f"nginx-{proxy_port}", host, proxy_port, [f"{near}:{p}" for p in rasa_ports],
                          actions_proxy_port, [f"{near}:{p}" for p in actions_ports])
    with ExitStack() as stack:
        instances = [running_assistant(model, rasa, actions, halls_port, env=env, log_dir=log_dir,
                                       start_halls=index == 0)
                     for index, (rasa, actions) in enumerate(zip(rasa_ports, actions_ports, strict=True))]
        # Each Rasa loads the model (~30 s): all at once, from threads that live as long as the layout, because
        # the children's PR_SET_PDEATHSIG fires when the *thread* that started them ends.
        pool = stack.enter_context(ThreadPoolExecutor(len(instances)))
        started = [pool.submit(instance.__enter__) for instance in instances]
        bases, entered, failure = [], [], None
        for instance, future in zip(instances, started, strict=True):
            try:
                bases.append(future.result())
                entered.append(instance)
            except BaseException as error:  # noqa: BLE001 - stop the others, then report the first failure
                failure = failure or error
        # stopped all at once: each waits for its Rasa's graceful shutdown
        stack.callback(lambda: list(pool.map(lambda instance: instance.__exit__(None, None, None), entered)))
        if failure:
            raise failure
        proxy = f"http://{near}:{proxy_port}"
        stack.enter_context(running_proxy(config, log_dir / f"nginx-{proxy_port}",
                                          f"{proxy}/status?token={env['HUJI_API_TOKEN']}"))
        yield Layout(proxy, bases)
