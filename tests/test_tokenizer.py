"""The jieba tokenizer keeps words whole and drops the whitespace tokens jieba emits in mixed text."""

from __future__ import annotations

from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.tokenizer import CleanJiebaTokenizer


def test_no_whitespace_tokens_in_mixed_text(tmp_path) -> None:  # noqa: ANN001 - pytest fixture
    tokenizer = CleanJiebaTokenizer({**CleanJiebaTokenizer.get_default_config()},
                                    LocalModelStorage(tmp_path), Resource("tokenizer"))
    message = Message(data={"text": "我家 BB 喺香港出世  ID 123 点样上户口"})
    tokens = tokenizer.tokenize(message, "text")
    assert tokens and all(t.text.strip() == t.text and t.text for t in tokens)
    assert "BB" in [t.text for t in tokens]
    assert all(message.get("text")[t.start:t.end] == t.text for t in tokens), "offsets point at the text"
