"""Prints how long every scenario's chat answer is: characters read, WeChat bytes with its buttons, and how many
answers needed nothing left out (the rest offer "查看完整清单"). Not a test: tests/test_answers.py checks the limits."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from actions.consultation import answer_buttons  # noqa: E402
from bot.catalog.loader import load_valid_catalog  # noqa: E402
from bot.channels.wechat.render import MAX_BYTES  # noqa: E402
from bot.channels.wechat.render import render as wechat_render  # noqa: E402
from bot.consult import render  # noqa: E402
from bot.consult.engine import next_step  # noqa: E402
from bot.documents.notice import notice_link  # noqa: E402
from bot.settings import SCENARIOS_DIR  # noqa: E402


def main() -> None:
    catalog = load_valid_catalog(SCENARIOS_DIR)
    chars, sizes, complete, full = [], [], 0, []
    for tree in catalog.trees.values():
        name = catalog.info(tree.code).name
        for s in tree.scenarios:
            step = next_step(tree, {q: a[0] for q, a in s.when.items()}, assume=False)
            possible = [(render.condition_label(tree, e.when), e) for e in step.possible_extras]
            url = notice_link("https://huji.example.gov.cn", s.id, [e.id for e in step.extras], step.answers, "天河")
            templates = [catalog.templates[t] for t in s.templates]
            answer = render.scenario_answer(s, step.extras, name, templates, possible, notice_url=url)
            turn, _ = wechat_render([{"text": answer.text, "buttons": answer_buttons(answer.complete, bool(possible))}])
            chars.append(render.visible_length(answer.text))
            sizes.append(len(turn.encode("utf-8")))
            complete += answer.complete
            full.append(render.visible_length(render.full_answer(s, step.extras, name, templates, possible, url)))
    print(f"scenarios {len(chars)}; chat answer characters p50 {statistics.median(chars):.0f}, max {max(chars)} "
          f"(limit {render.MAX_ANSWER_CHARS}); WeChat bytes with buttons max {max(sizes)} (limit {MAX_BYTES}); "
          f"complete without '查看完整清单' {complete}; the full answer before: p50 {statistics.median(full):.0f}, "
          f"max {max(full)} characters")


if __name__ == "__main__":
    main()
