"""How long one notice sheet and one form take to render, HTML and PDF (median of 20 each).

    .venv/bin/python bench/documents_bench.py [--runs 20]

The PDF cache is bypassed, so every run really lays out and embeds the font. A script, not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.catalog.loader import load_valid_catalog  # noqa: E402
from bot.documents import forms  # noqa: E402
from bot.documents.html import form_html, notice_html  # noqa: E402
from bot.documents.notice import build_notice  # noqa: E402
from bot.documents.pdf import _cached_pdf  # noqa: E402
from bot.settings import SCENARIOS_DIR  # noqa: E402


def timed(fn, runs: int) -> float:  # noqa: ANN001 - any callable
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    runs = parser.parse_args().runs
    catalog = load_valid_catalog(SCENARIOS_DIR)
    scenario = catalog.trees["birth"].scenario("birth_married_in_time")
    template = catalog.templates["birth_application"]

    def notice() -> str:
        return notice_html(build_notice(catalog, scenario, ["ethnicity_different"], answers={"marital": "married"},
                                        district="天河", base_url="http://localhost:5080", today=dt.date.today()))

    def form() -> str:
        return form_html(template, "sample", forms.paragraphs(template, "sample"), 0, [])

    _cached_pdf.__wrapped__("warm-up", form())  # imports WeasyPrint once
    pages = (("notice sheet (birth_married_in_time, 天河)", notice), ("form (birth_application, 样表)", form))
    for name, page in pages:
        html_ms = timed(page, runs)
        html = page()
        pdf_ms = timed(lambda html=html: _cached_pdf.__wrapped__("bench", html), runs)
        size = len(_cached_pdf.__wrapped__("bench", html))
        print(f"{name}: HTML {html_ms:.1f} ms, PDF {pdf_ms:.0f} ms (median of {runs}), PDF {size // 1024} kB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
