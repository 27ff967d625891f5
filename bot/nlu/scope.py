"""Decides whether a message is household registration at all, from the catalog's evidence.

DIET's intent is a first opinion learned from examples; the catalog knows more: which businesses a message names,
which non-户政 topic it names (scenarios/outside.yml) and what the category classifier, which also has a class for
"not 户政", makes of the whole sentence. This module turns that evidence into the intent the dialogue should see.
"""

from __future__ import annotations

from collections.abc import Mapping

OUTSIDE = "outside"  # the category classifier's class for messages that are not 户政 business
OUT_OF_SCOPE = "out_of_scope"
CONSULT = "consult"
# a sentence the classifier is this sure is not 户政 stays out, even when DIET called it a consultation
OUTSIDE_SURE = 0.5
# DIET's out_of_scope is overruled when the classifier is this sure of one business
BUSINESS_SURE = 0.6
# a topic answered even when a business is named (house purchase) needs a surer sentence: "在广州买了房能迁户口吗"
# is the question that topic answers, and the classifier has it as not-户政
OVER_BUSINESS_SURE = 0.7
# another intent DIET is less sure of than this yields to a non-户政 topic the message names ("办离婚要不要预约")
OTHER_INTENT_SURE = 0.9


def best_business(likely: Mapping[str, float]) -> tuple[str | None, float]:
    """The business the classifier favours (never OUTSIDE) and its probability; (None, 0.0) when none."""
    return max(((c, v) for c, v in likely.items() if c != OUTSIDE), key=lambda kv: kv[1], default=(None, 0.0))


def scoped_intent(intent: str | None, named: list[str], topic: str | None, over_business: bool,
                  likely: Mapping[str, float], confidence: float = 1.0) -> str | None:
    """The intent to use instead of DIET's, or None to keep it.

    `named`: businesses the message names (catalog keywords); `topic`: the non-户政 topic it names, if any, and
    `over_business` whether that topic is answered even when a business is named (house purchase);
    `likely`: the classifier's probabilities, OUTSIDE included; `confidence`: DIET's for its intent.
    """
    if intent not in (CONSULT, OUT_OF_SCOPE, None):
        # greetings, bookings, answers are DIET's business, unless it hesitates over a message naming another office
        sure_other = confidence >= OTHER_INTENT_SURE or topic is None or named
        return None if sure_other else OUT_OF_SCOPE
    outside = likely.get(OUTSIDE, 0.0)
    best, p = best_business(likely)
    if topic is not None:
        # "有中级职称，交着社保，能申请入户吗" names 社保 inside a 户政 question, "在海珠买了新房，户口想从越秀迁过去"
        # 买房 inside one: a sentence the classifier surely reads as one business stays a consultation
        if best is not None and p >= (OVER_BUSINESS_SURE if over_business else BUSINESS_SURE) and p > outside:
            return CONSULT
        if over_business or not named:
            return OUT_OF_SCOPE
        # "户口迁来了，驾驶证地址要不要改" names both: the sentence as a whole decides
        return OUT_OF_SCOPE if outside > max(likely.get(c, 0.0) for c in named) else CONSULT
    if intent == CONSULT and not named and outside >= OUTSIDE_SURE and outside > p:
        return OUT_OF_SCOPE
    if intent == OUT_OF_SCOPE and (named or (best is not None and p >= BUSINESS_SURE)):
        return CONSULT
    return None
