"""WeChat official-account protocol: what wechatpy does not check for us.

wechatpy computes signatures, parses and builds the XML and encrypts (plain, compatible and safe mode). Around it:
signatures compared in constant time, a 5-minute window on both the query's `timestamp` and the message's own
`CreateTime` (a captured message re-signed later is still stale), a body-size limit, XML with a DOCTYPE or entity
refused before any parser sees it, and one `Incoming` for every kind of message.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import time
from dataclasses import dataclass

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import WeChatSigner

DEFAULTS = {
    "HUJI_WECHAT_TOKEN": "huji-dev-token",
    "HUJI_WECHAT_APPID": "wxhujidev0000000",
    "HUJI_WECHAT_AES_KEY": "HujiDevAesKeyForTestingOnly0123456789abcdef",
    "HUJI_WECHAT_SECRET": "huji-dev-secret",
}
TIMESTAMP_WINDOW = 300  # seconds either side of now
MAX_BODY = 64 * 1024  # WeChat's own messages are a few kB at most
_FORBIDDEN = re.compile(rb"<!(DOCTYPE|ENTITY)", re.I)  # no DTD, so no entity expansion (billion laughs, XXE)


class Rejected(Exception):
    """A request to refuse: `status` is the HTTP status (403 bad signature or stale, 400 bad XML)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def with_defaults(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment with the development defaults for the variables credentials.yml expands."""
    environ = dict(os.environ if environ is None else environ)
    for name, value in DEFAULTS.items():
        environ.setdefault(name, value)
    return environ


def pseudonym(openid: str) -> str:
    """What logs show instead of an OpenID."""
    return "wx-" + hashlib.sha256(openid.encode()).hexdigest()[:12]


def signature(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def same(expected: str, given: str | None) -> bool:
    return hmac.compare_digest(expected.encode(), (given or "").encode())


@dataclass
class Incoming:
    kind: str  # text | voice | event | location | image | unknown ...
    openid: str
    to_user: str
    create_time: int
    key: str  # MsgId, else FromUserName+CreateTime: what makes a retry or a replay the same message
    text: str = ""  # what to hand to Rasa ("" = no turn)
    event: str = ""
    label: str = ""
    latitude: float | None = None  # a location message's Location_X
    longitude: float | None = None  # and Location_Y


class Protocol:
    def __init__(self, token: str, appid: str, aes_key: str = "", window: int = TIMESTAMP_WINDOW):
        self.token, self.appid, self.window = token, appid, window
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None

    def check_query(self, args: dict[str, str], now: float | None = None) -> None:
        timestamp, nonce = args.get("timestamp", ""), args.get("nonce", "")
        if not timestamp.isdigit() or not nonce or len(nonce) > 64:
            raise Rejected(403, "missing timestamp or nonce")
        if not same(signature(self.token, timestamp, nonce), args.get("signature")):
            raise Rejected(403, "bad signature")
        if abs((time.time() if now is None else now) - int(timestamp)) > self.window:
            raise Rejected(403, "stale timestamp")

    def url_check(self, args: dict[str, str]) -> str:
        self.check_query(args)
        return args.get("echostr", "")

    def read(self, args: dict[str, str], body: bytes, now: float | None = None) -> tuple[Incoming, bool]:
        """Check and parse a posted message; (message, encrypted)."""
        now = time.time() if now is None else now
        self.check_query(args, now)
        safe_xml(body)
        encrypted = args.get("encrypt_type") == "aes"
        if self.crypto is not None and not encrypted:
            raise Rejected(403, "plain message while an AES key is configured")
        if encrypted:
            if self.crypto is None:
                raise Rejected(400, "encrypted message but no AES key configured")
            cipher = _element(body, "Encrypt")
            if not same(signature(self.token, args["timestamp"], args["nonce"], cipher), args.get("msg_signature")):
                raise Rejected(403, "bad message signature")
            try:
                body = self.crypto.decrypt_message(body, args["msg_signature"], args["timestamp"],
                                                   args["nonce"]).encode("utf-8")
            except (InvalidSignatureException, InvalidAppIdException) as error:
                raise Rejected(403, type(error).__name__) from None
            except Exception:  # noqa: BLE001 - bad base64, padding or XML inside
                raise Rejected(400, "cannot decrypt") from None
            safe_xml(body)
        try:
            message = parse_message(body)
        except Exception:  # noqa: BLE001 - expat errors, a missing <xml> root, ...
            raise Rejected(400, "malformed XML") from None
        result = incoming(message)
        # WeChat's retries carry the original CreateTime (at most ~15 s old); far from now is a replayed capture
        if abs(now - result.create_time) > self.window:
            raise Rejected(403, "stale CreateTime")
        return result, encrypted

    def reply(self, to: Incoming, content: str, encrypted: bool, nonce: str, timestamp: str) -> str:
        from wechatpy.replies import TextReply

        xml = TextReply(source=to.to_user, target=to.openid, content=content).render()
        if encrypted and self.crypto is not None:
            return self.crypto.encrypt_message(xml, nonce, timestamp)
        return xml


def safe_xml(body: bytes) -> None:
    if len(body) > MAX_BODY:
        raise Rejected(400, "body too large")
    if not body.strip():
        raise Rejected(400, "empty body")
    if _FORBIDDEN.search(body):
        raise Rejected(400, "DOCTYPE or entity declaration in XML")


def _element(body: bytes, name: str) -> str:
    import xmltodict

    try:
        root = xmltodict.parse(body, disable_entities=True)["xml"]
        return str(root[name])
    except Exception:  # noqa: BLE001
        raise Rejected(400, f"no {name} element") from None


def incoming(message) -> Incoming:  # a wechatpy message object
    data = getattr(message, "_data", {}) or {}
    openid = str(getattr(message, "source", "") or data.get("FromUserName") or "")
    to_user = str(getattr(message, "target", "") or data.get("ToUserName") or "")
    if not openid or len(openid) > 128:
        raise Rejected(400, "no FromUserName")
    try:
        create_time = int(str(data.get("CreateTime") or "").strip())
    except ValueError:
        raise Rejected(400, "missing or bad CreateTime") from None
    msg_id = data.get("MsgId") or data.get("MsgID")
    key = f"id:{msg_id}" if msg_id else f"ft:{openid}:{create_time}"
    kind = str(data.get("MsgType") or getattr(message, "type", "unknown"))
    result = Incoming(kind=kind, openid=openid, to_user=to_user, create_time=create_time, key=key)
    if kind == "text":
        result.text = str(data.get("Content") or "").strip()[:2000]
    elif kind == "voice":
        result.text = str(data.get("Recognition") or "").strip().rstrip("。！？")[:2000]
    elif kind == "event":
        result.event = str(data.get("Event") or "").lower()
        result.label = str(data.get("EventKey") or "")
    elif kind == "location":
        result.label = str(data.get("Label") or "")[:200]
        result.latitude, result.longitude = _coordinate(data.get("Location_X")), _coordinate(data.get("Location_Y"))
    return result


def _coordinate(value) -> float | None:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) <= 180 else None  # NaN and nonsense are no coordinate
