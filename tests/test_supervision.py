"""Process supervision: a signal to `./huji serve` stops everything it started; a port in use stops start-up."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from bot.settings import ROOT
from bot.training import ensure_model
from tests.hall_service import free_port

# `./huji serve` without the rebuild (the tests must not regenerate shared build files): the same cli.main
SERVE = "import bot.cli as c, bot.training as t; c._train = t.ensure_model; raise SystemExit(c.main(['serve']))"


def _serve_env(tmp: Path, **ports: int) -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "HUJI_API_TOKEN": "supervision-token",
            "HUJI_BOOKING_DATABASE_URL": f"sqlite:///{tmp / 'bookings.sqlite3'}",
            "HUJI_TRACKER_DB_URL": f"sqlite:///{tmp / 'tracker.sqlite3'}",
            **{f"HUJI_{name.upper()}_PORT": str(port) for name, port in ports.items()}}


def descendants(pid: int) -> set[int]:
    """Every living process below `pid` (from the parent ids in /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_every_process_it_started(signum: int, tmp_path: Path) -> None:
    ensure_model()
    ports = {"rasa": free_port(), "actions": free_port(), "halls": free_port()}
    serve = subprocess.Popen([sys.executable, "-c", SERVE], cwd=ROOT, env=_serve_env(tmp_path, **ports),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output = []
        for line in serve.stdout:
            output.append(line)
            if "排队模拟器已在运行" in line:
                break
        assert "助手已就绪" in "".join(output), "".join(output)
        assert "HTTP API 需要令牌" in "".join(output) and "HUJI_API_TOKEN" in "".join(output)
        children = descendants(serve.pid)
        assert len(children) >= 3, children  # hall service, action server, Rasa

        health = requests.get(f"http://127.0.0.1:{ports['halls']}/health", timeout=10)
        assert health.status_code == 200, health.text
        parts = health.json()["parts"]
        assert health.json()["status"] == "ok", parts
        assert parts["database"]["status"] == "ok" and parts["model"]["version"] == ensure_model().name
        assert parts["rasa"]["status"] == "ok" and parts["actions"]["status"] == "ok"

        started = time.monotonic()
        serve.send_signal(signum)
        serve.wait(timeout=60)
        left = {pid for pid in children if alive(pid)}
        assert not left, f"still running after {signal.Signals(signum).name}: {left}"
        print(f"{signal.Signals(signum).name}: all {len(children)} processes gone in "
              f"{time.monotonic() - started:.1f} s")
        for port in ports.values():  # and the ports are free again
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", port))
    finally:
        if serve.poll() is None:
            serve.kill()
        for pid in descendants(serve.pid):
            os.kill(pid, signal.SIGKILL)


def test_a_port_in_use_stops_start_up_naming_it(tmp_path: Path) -> None:
    ensure_model()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {"rasa": port, "actions": free_port(), "halls": free_port()}
        started = time.monotonic()
        result = subprocess.run([sys.executable, "-c", SERVE], cwd=ROOT, env=_serve_env(tmp_path, **ports),
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"端口 {port} 已被占用（Rasa 服务）" in result.stderr and "HUJI_RASA_PORT" in result.stderr
    assert "助手已就绪" not in result.stdout
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 60  # refused before starting anything


def test_ports_are_checked_on_the_address_to_bind() -> None:
    from bot.services import StartupError, ensure_port_free

    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        with pytest.raises(StartupError, match=f"端口 {taken.getsockname()[1]} 已被占用"):
            ensure_port_free("127.0.0.1", taken.getsockname()[1], "Rasa 服务", "HUJI_RASA_PORT")
    ensure_port_free("127.0.0.1", free_port(), "Rasa 服务", "HUJI_RASA_PORT")
