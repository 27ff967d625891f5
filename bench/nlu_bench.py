"""Budgets of the growing catalog, as figures: full training time and one message's NLU parse latency.

    .venv/bin/python bench/nlu_bench.py [--retrain] [--repeat 3]

--retrain trains a fresh model into a temporary folder (the full `rasa train` the run command does) and prints
its wall time; without it, the current model (./huji train) is used. Then every held-out message
(tests/heldout/messages.yml) and every scenario example is parsed `repeat` times with the whole catalog loaded,
and p50 / p95 / max per message are printed. A script, not a test: budgets are read, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.catalog.loader import load_valid_catalog  # noqa: E402
from bot.settings import SCENARIOS_DIR  # noqa: E402
from bot.training import ensure_model  # noqa: E402


def train_fresh() -> tuple[Path, float]:
    out = Path(tempfile.mkdtemp(prefix="huji-bench-"))
    # an empty cache: Rasa would otherwise reuse every component whose inputs did not change
    env = {**os.environ, "RASA_CACHE_DIRECTORY": str(out / "cache"), "RASA_TELEMETRY_ENABLED": "false"}
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "rasa", "train", "--out", str(out), "--fixed-model-name", "bench",
                    "--config", "config.yml", "--domain", "domain.yml", "--data", "data"],
                   cwd=ROOT, check=True, capture_output=True, env=env)
    return out / "bench.tar.gz", time.monotonic() - started


async def parse_times(model: Path, texts: list[str], repeat: int) -> list[float]:
    from rasa.core.agent import load_agent

    agent = await load_agent(model_path=str(model))
    await agent.parse_message("你好")  # warm-up: the first parse builds lazy caches
    times = []
    for _ in range(repeat):
        for text in texts:
            started = time.perf_counter()
            await agent.parse_message(text)
            times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    catalog = load_valid_catalog(SCENARIOS_DIR)
    if args.retrain:
        model, seconds = train_fresh()
        print(f"full training: {seconds:.0f} s (budget 300 s)")
    else:
        model = ensure_model()
    held_out = yaml.safe_load((ROOT / "tests/heldout/messages.yml").read_text(encoding="utf-8"))["messages"]
    texts = [m["text"] for m in held_out] + [e for t in catalog.trees.values() for s in t.scenarios
                                              for e in s.examples]
    times = sorted(asyncio.run(parse_times(model, texts, args.repeat)))
    print(f"catalog: {catalog.scenario_count} scenarios; parsed {len(texts)} messages x {args.repeat}")
    print(f"parse latency: p50 {statistics.median(times):.1f} ms, p95 {times[int(len(times) * 0.95)]:.1f} ms, "
          f"max {times[-1]:.1f} ms (budget p50 30 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
