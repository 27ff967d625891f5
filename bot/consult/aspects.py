"""What a citizen asks about a business besides the checklist: "要多少钱", "多久能拿到", "在哪办", "能网上办吗".

The cues are language, not rules: they say which part of the answer to give first. The facts themselves (fee,
time limit, where, online, who must come) always come from the scenario in the catalog.
"""

from __future__ import annotations

import re

# aspect -> phrases that ask about it (Mandarin and the Cantonese a Guangzhou citizen types)
CUES: dict[str, tuple[str, ...]] = {
    "fee": ("多少钱", "几多钱", "几钱", "收费", "收唔收钱", "收不收钱", "要钱吗", "要不要钱", "使唔使钱", "要交钱",
            "费用", "工本费", "免费吗", "花多少"),
    "time": ("多久", "多长时间", "多少天", "几天", "几耐", "几时", "什么时候能拿", "什么时候可以拿", "几时攞",
             "几时可以攞", "时限", "几个工作日", "当天能拿", "当场能拿", "当天可以拿", "当场拿"),
    "where": ("在哪办", "在哪里办", "在哪儿办", "哪里办", "哪儿办", "去哪办", "去哪里办", "去哪儿办", "到哪里办",
              "哪个派出所", "边度办", "喺边度办", "去边度", "办理地点"),
    "online": ("网上办", "网上申请", "网上可以", "网上能", "能网上", "可以网上", "网办", "线上办", "在线办", "手机办",
               "手机上办", "手机上申请", "小程序办", "微信上办", "不用跑", "唔使去", "不用去窗口"),
    "who": ("要本人", "本人去", "本人到场", "本人亲自", "亲自去", "亲自到", "要不要本人", "使唔使本人", "代办",
            "代领", "代取", "帮人办", "帮我办", "别人办", "别人帮", "家人帮", "委托", "谁去办", "谁来办"),
    "materials": ("什么材料", "哪些材料", "咩材料", "乜材料", "要带什么", "带什么", "带啲乜", "准备什么", "要啲乜",
                  "什么资料", "哪些资料", "材料清单"),
    # asking for more of an answer already given
    "full": ("查看完整清单", "完整清单", "完整版", "全部材料", "详细清单", "详细材料", "全部内容"),
    "special": ("特殊情况",),
}
LABELS = {"fee": "费用", "time": "办理时限", "where": "在哪办理", "online": "能否网上办理", "who": "谁来办理",
          "materials": "材料清单", "full": "完整清单", "special": "特殊情况"}
FACT_ASPECTS = ("fee", "time", "where", "online", "who")  # each answered by one line of the scenario
MORE_ASPECTS = ("full", "special")  # only make sense once the checklist was given

_PATTERN = re.compile("|".join(sorted((re.escape(c) for cues in CUES.values() for c in cues), key=len, reverse=True)))
_ASPECT_OF = {c: a for a, cues in CUES.items() for c in cues}


def detect(text: str) -> list[str]:
    """The aspects a message asks about, in the order it asks them (each once)."""
    found = [_ASPECT_OF[m.group(0)] for m in _PATTERN.finditer(text or "")]
    return list(dict.fromkeys(found))
