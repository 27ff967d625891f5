"""The answer to a question that is not 户政 business: who handles it instead (scenarios/outside.yml)."""

from __future__ import annotations

from bot.catalog.outside import Topic

GENERIC = ("抱歉，这个问题不在户政业务范围内，我暂时帮不上忙。可以拨打广州 12345 政务服务便民热线咨询。"
           "户口、身份证、居住证等方面的问题都可以问我。")


def out_of_scope_answer(topics: list[Topic], code: str | None,
                        category_names: dict[str, str]) -> tuple[str, list[dict[str, str]]]:
    """Text and buttons: the topic's pointer and the 户政 businesses that do apply, or the generic answer."""
    topic = next((t for t in topics if t.code == code), None)
    if topic is None:
        return GENERIC, []
    buttons = [{"title": category_names[c], "payload": f'/consult{{"category":"{c}"}}'}
               for c in topic.choices if c in category_names]
    return topic.reply, buttons
