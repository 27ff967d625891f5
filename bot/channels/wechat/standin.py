"""A local stand-in for WeChat's servers, for the demo and the tests (no network needed).

It posts messages to the channel the way WeChat does: signed query (signature, timestamp, nonce; in safe mode
encrypt_type=aes and msg_signature over the ciphertext), XML body, a 5-second timeout and 3 retries of the same
message. It also plays the API (`/cgi-bin/token`, `/cgi-bin/message/custom/send`) on a local base URL and keeps
the 客服消息 it receives. `fail_custom = n` makes the next n 客服消息 calls fail like WeChat when it is busy
(errcode -1, 「系统繁忙」), or with `fail_code`.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import requests
import xmltodict
from wechatpy.crypto import WeChatCrypto

from bot.channels.wechat.protocol import DEFAULTS, signature

ACCOUNT = "gh_huji_standin"
_ids = itertools.count(int(time.time() * 1000) % 10**12 * 1000)


@dataclass
class Exchange:
    status: int
    passive: str | None  # the passive reply's text, None when the channel answered "success" (or failed)
    attempts: int
    body: str = ""
    seconds: float = 0.0
    custom: list[str] = field(default_factory=list)  # 客服消息 that followed (filled by `say`)


class WeChatStandIn:
    def __init__(self, webhook: str = "", token: str = DEFAULTS["HUJI_WECHAT_TOKEN"],
                 appid: str = DEFAULTS["HUJI_WECHAT_APPID"], aes_key: str = "",
                 secret: str = DEFAULTS["HUJI_WECHAT_SECRET"]) -> None:
        self.webhook, self.token, self.appid, self.secret = webhook, token, appid, secret
        self.crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None
        self.access_token = "standin-" + secrets.token_hex(8)
        self.custom: list[dict] = []  # every 客服消息 received: {"touser", "msgtype", "text": {"content"}}
        self.token_requests = 0
        self.custom_attempts = 0  # every 客服消息 call, failed ones included
        self.fail_custom, self.fail_code = 0, -1
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self.api_base = ""  # set by start_api

    # --- the API side -------------------------------------------------------------------------------------
    def start_api(self) -> str:
        """Serve the API on a free local port; returns the base URL to give the channel (HUJI_WECHAT_API_BASE)."""
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _json(self, payload: dict) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/cgi-bin/token" and query.get("appid") == standin.appid \
                        and query.get("secret") == standin.secret:
                    standin.token_requests += 1
                    return self._json({"access_token": standin.access_token, "expires_in": 7200})
                return self._json({"errcode": 40013, "errmsg": "invalid appid or secret"})

            def do_POST(self) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if query.get("access_token") != standin.access_token:
                    return self._json({"errcode": 40001, "errmsg": "invalid credential"})
                if url.path != "/cgi-bin/message/custom/send":
                    return self._json({"errcode": 48001, "errmsg": "api unauthorized"})
                with standin._changed:
                    standin.custom_attempts += 1
                    if standin.fail_custom > 0:
                        standin.fail_custom -= 1
                        return self._json({"errcode": standin.fail_code, "errmsg": "system error"})
                message = json.loads(body)
                content = (message.get("text") or {}).get("content", "")
                if len(content.encode("utf-8")) > 2048:
                    return self._json({"errcode": 45002, "errmsg": "content size out of limit"})
                with standin._changed:
                    standin.custom.append(message)
                    standin._changed.notify_all()
                return self._json({"errcode": 0, "errmsg": "ok"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.api_base = f"http://127.0.0.1:{self._server.server_address[1]}/cgi-bin/"
        return self.api_base

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def custom_for(self, openid: str) -> list[str]:
        return [m["text"]["content"] for m in self.custom if m.get("touser") == openid and m.get("text")]

    def wait_custom(self, openid: str, count: int, timeout: float = 60.0) -> list[str]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.custom_for(openid)) < count and time.monotonic() < deadline:
                self._changed.wait(timeout=0.2)
        return self.custom_for(openid)

    # --- the pushing side ---------------------------------------------------------------------------------
    def signed_query(self, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        ts, nonce = str(int(time.time()) if timestamp is None else timestamp), nonce or secrets.token_hex(5)
        return {"signature": signature(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}

    def url_check(self, echostr: str = "", **query) -> requests.Response:
        params = {**self.signed_query(), "echostr": echostr or secrets.token_hex(8), **query}
        return requests.get(self.webhook, params=params, timeout=10)

    def message_xml(self, openid: str, msg_type: str = "text", msg_id: int | None = None,
                    create_time: int | None = None, **fields: str) -> str:
        data = {"ToUserName": ACCOUNT, "FromUserName": openid, "CreateTime": create_time or int(time.time()),
                "MsgType": msg_type, **fields}
        if msg_type != "event":
            data["MsgId"] = next(_ids) if msg_id is None else msg_id
        return xmltodict.unparse({"xml": data}, full_document=False)

    def post(self, xml: str | bytes, timeout: float = 5.0, retries: int = 3, query: dict | None = None,
             encrypt: bool = True) -> Exchange:
        """Post like WeChat: same message again after a timeout, up to `retries` times; each try freshly signed."""
        started = time.monotonic()
        for attempt in range(1, retries + 2):
            params = self.signed_query()
            body = xml.encode("utf-8") if isinstance(xml, str) else xml
            if self.crypto is not None and encrypt:
                body, params = self._encrypt(body.decode("utf-8"), params)
            params.update(query or {})  # a test's tampering comes last
            try:
                answer = requests.post(self.webhook, params=params, data=body, timeout=timeout,
                                       headers={"Content-Type": "text/xml"})
            except requests.Timeout:
                continue
            return Exchange(answer.status_code, self._passive(answer), attempt, answer.text,
                            time.monotonic() - started)
        return Exchange(0, None, retries + 1, "", time.monotonic() - started)

    def _encrypt(self, xml: str, params: dict[str, str]) -> tuple[bytes, dict[str, str]]:
        sealed = xmltodict.parse(self.crypto.encrypt_message(xml, params["nonce"], params["timestamp"]))["xml"]
        body = xmltodict.unparse({"xml": {"ToUserName": ACCOUNT, "Encrypt": sealed["Encrypt"]}}, full_document=False)
        return body.encode("utf-8"), {**params, "encrypt_type": "aes", "msg_signature": sealed["MsgSignature"]}

    def _passive(self, answer: requests.Response) -> str | None:
        text = answer.text
        if answer.status_code != 200 or not text or text == "success":
            return None
        if self.crypto is not None and "<Encrypt>" in text:
            sealed = xmltodict.parse(text)["xml"]
            text = self.crypto.decrypt_message(text, sealed["MsgSignature"], sealed["TimeStamp"], sealed["Nonce"])
        reply = xmltodict.parse(text)["xml"]
        return reply.get("Content") or ""

    def say(self, openid: str, text: str, settle: float = 1.0, timeout: float = 60.0, **kwargs) -> Exchange:
        """Send a text message; the passive reply, or the 客服消息 that come instead (until `settle` s of quiet)."""
        before = len(self.custom_for(openid))
        exchange = self.post(self.message_xml(openid, Content=text), **kwargs)
        if exchange.passive is None and exchange.status == 200:
            deadline, last, seen = time.monotonic() + timeout, time.monotonic(), before
            while time.monotonic() < deadline:
                now_seen = len(self.wait_custom(openid, seen + 1, timeout=0.2))
                if now_seen > seen:
                    seen, last = now_seen, time.monotonic()
                elif seen > before and time.monotonic() - last > settle:
                    break
            exchange.custom = self.custom_for(openid)[before:]
        return exchange


def texts(exchange: Exchange) -> list[str]:
    return [exchange.passive] if exchange.passive is not None else exchange.custom
