"""Police hotline channel: speech-recognition transcripts in, short spoken answers out."""

from bot.channels.hotline.channel import HotlineInput

__all__ = ["HotlineInput"]
