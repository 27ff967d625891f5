"""Rasa's answers as WeChat text: buttons become numbered choices, long answers are split under 2,048 bytes."""

from __future__ import annotations

import re
import unicodedata

MAX_BYTES = 2047  # WeChat cuts a text message at 2,048 bytes

Button = dict[str, str]


def render(messages: list[dict]) -> tuple[str, list[Button]]:
    """One text for a turn's messages, with its buttons as 「回复 1 选择…」 lines; and the buttons in that order."""
    texts = [m["text"].strip() for m in messages if (m.get("text") or "").strip()]
    buttons = [b for m in messages for b in (m.get("buttons") or []) if b.get("payload")]
    if buttons:
        texts.append("\n".join(f"回复 {n} 选择「{b.get('title') or b['payload']}」" for n, b in enumerate(buttons, 1)))
    return "\n\n".join(texts), buttons


def split(text: str, limit: int = MAX_BYTES) -> list[str]:
    """Chunks of at most `limit` UTF-8 bytes, cut at blank lines, else at line ends, else between characters."""
    if len(text.encode("utf-8")) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    current = ""
    for paragraph in re.split(r"(?<=\n)\n", text):
        for piece in _pieces(paragraph, limit):
            candidate = current + piece
            if len(candidate.rstrip("\n").encode("utf-8")) <= limit:
                current = candidate
            else:
                if current.strip():
                    chunks.append(current.rstrip("\n"))
                current = piece
    if current.strip():
        chunks.append(current.rstrip("\n"))
    return chunks


def _pieces(paragraph: str, limit: int) -> list[str]:
    if len(paragraph.encode("utf-8")) <= limit:
        return [paragraph]
    pieces = []
    for line in paragraph.splitlines(keepends=True):
        while len(line.encode("utf-8")) > limit:
            cut = len(line.encode("utf-8")[:limit].decode("utf-8", "ignore"))
            pieces.append(line[:cut] + "\n")
            line = line[cut:]
        pieces.append(line)
    return pieces


_NUMBER = re.compile(r"^(?:回复|选择?|第)?\s*(\d{1,2})\s*(?:个|项|号)?$")


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s「」『』\"'“”‘’。，,.!！?？：:]", "", text)


def choose(text: str, buttons: list[Button]) -> Button | None:
    """The button a reply picks: its number, its label, or a sound-alike of the label."""
    if not buttons:
        return None
    plain = _plain(text)
    match = _NUMBER.match(plain)
    if match:
        n = int(match.group(1))
        return buttons[n - 1] if 1 <= n <= len(buttons) else None
    if not plain:
        return None
    for button in buttons:
        if _plain(button.get("title") or "") == plain:
            return button
    from bot.nlu.homophones import sounds

    heard = sounds(plain)
    alike = [b for b in buttons if sounds(_plain(b.get("title") or "")) == heard]
    return alike[0] if len(alike) == 1 else None
