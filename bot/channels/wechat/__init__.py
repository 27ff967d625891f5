"""WeChat official account (公众号) channel: protocol, replay store, rendering, a local stand-in for WeChat."""

from bot.channels.wechat.channel import WeChatInput

__all__ = ["WeChatInput"]
