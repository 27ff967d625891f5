"""Starts the action server and the Rasa server as child processes and waits until they answer."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests

from bot.settings import BUILD_DIR, ROOT

STARTUP_TIMEOUT = 180.0


def _wait(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"进程意外退出（{process.returncode}），日志：{log}\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} 在 {STARTUP_TIMEOUT:.0f} 秒内没有就绪，日志：{log}")


@contextmanager
def running_assistant(model: Path, rasa_port: int, actions_port: int, halls_port: int,
                      env: dict[str, str] | None = None, log_dir: Path = BUILD_DIR / "logs") -> Iterator[str]:
    """Run the hall service (with the queue simulator), actions and Rasa; yield the Rasa base URL."""
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HUJI_HALLS_URL": f"http://127.0.0.1:{halls_port}", **(env or {})}
    endpoints = log_dir / f"endpoints-{actions_port}.yml"
    endpoints.write_text((ROOT / "endpoints.yml").read_text(encoding="utf-8")
                         .replace("127.0.0.1:5055/", f"127.0.0.1:{actions_port}/"), encoding="utf-8")
    processes: list[subprocess.Popen] = []
    try:
        halls_log = log_dir / f"halls-{halls_port}.log"
        halls = subprocess.Popen([sys.executable, "-m", "bot", "halls", "--port", str(halls_port)],
                                 cwd=ROOT, env=env, stdout=halls_log.open("w"), stderr=subprocess.STDOUT)
        processes.append(halls)
        actions_log = log_dir / f"actions-{actions_port}.log"
        actions = subprocess.Popen(
            [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(actions_port)],
            cwd=ROOT, env=env, stdout=actions_log.open("w"), stderr=subprocess.STDOUT)
        processes.append(actions)
        rasa_log = log_dir / f"rasa-{rasa_port}.log"
        rasa = subprocess.Popen(
            [sys.executable, "-m", "rasa", "run", "--enable-api", "--cors", "*", "--port", str(rasa_port),
             "--model", str(model), "--endpoints", str(endpoints), "--credentials", "credentials.yml"],
            cwd=ROOT, env=env, stdout=rasa_log.open("w"), stderr=subprocess.STDOUT)
        processes.append(rasa)
        _wait(f"http://127.0.0.1:{halls_port}/api/openapi.json", halls, halls_log)
        _wait(f"http://127.0.0.1:{actions_port}/health", actions, actions_log)
        base = f"http://127.0.0.1:{rasa_port}"
        _wait(f"{base}/status", rasa, rasa_log)
        yield base
    finally:
        for p in reversed(processes):
            p.terminate()
        for p in processes:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
