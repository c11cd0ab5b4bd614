"""A fake Telegram Bot API server on loopback, for driving the real PTB Application in tests.

It answers as Telegram does — including 400 on bad HTML or a text over 4096 characters, 403 for
chats the bot was removed from, 400 with migrate_to_chat_id for groups that became supergroups,
502 on demand, and 429 with retry_after under flood control — and records every
call it was sent. Updates are queued with `push_update` and handed out by long-polled getUpdates.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

BOT_ID = 4242
BOT_USERNAME = "policy_test_bot"
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
                "span", "blockquote", "tg-emoji"}
MAX_TEXT = 4096


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class _HtmlChecker(HTMLParser):
    """Telegram's HTML rules, strictly: known tags only, properly nested, entities escaped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.error = ""

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in ALLOWED_TAGS:
            self.error = self.error or f"Unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f"Unexpected end tag \"{tag}\""
        else:
            self.stack.pop()

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.error = self.error or f"Unsupported entity \"{name}\""


def html_error(text: str) -> str:
    """Why Telegram would refuse this HTML, or '' when it is fine."""
    if re.search(r"&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)", text):
        return "Can't parse entities: unescaped '&'"
    if re.search(r"<(?![a-zA-Z/])", text):
        return "Can't parse entities: unescaped '<'"
    checker = _HtmlChecker()
    checker.feed(text)
    checker.close()
    if checker.error:
        return "Can't parse entities: " + checker.error
    if checker.stack:
        return f"Can't parse entities: can't find end tag corresponding to start tag \"{checker.stack[-1]}\""
    return ""


def visible_length(text: str, parse_mode: str | None) -> int:
    if parse_mode == "HTML":
        text = re.sub(r"<[^>]+>", "", text)
        text = re.sub(r"&(lt|gt|amp|quot);", "x", text)
    return len(text)


class FakeTelegram:
    """Start with `await fake.start()`; point PTB at `fake.base_url` and `fake.base_file_url`."""

    def __init__(self, token: str = "123:TEST") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.updates: asyncio.Queue[dict] = asyncio.Queue()
        self.files: dict[str, bytes] = {}
        self.forbidden_chats: set[int] = set()
        self.migrated_chats: dict[int, int] = {}  # group id -> its new supergroup id
        self.failures_to_serve = 0  # the next N sendMessage calls answer 502 Bad Gateway (network trouble)
        self.chat_members: dict[tuple[int, int], str] = {}
        self.flood_control = False
        self.global_rate = 30
        self.per_chat_per_minute = 20
        self.reject_token = False
        self._message_ids = itertools.count(1000)
        self._update_ids = itertools.count(1)
        self._sent_times: list[float] = []
        self._sent_by_chat: dict[int, list[float]] = {}
        self._server: TestServer | None = None
        self.new_message = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        if self._server:
            await self._server.close()

    @property
    def base_url(self) -> str:
        assert self._server
        return f"http://127.0.0.1:{self._server.port}/bot"

    @property
    def base_file_url(self) -> str:
        assert self._server
        return f"http://127.0.0.1:{self._server.port}/file/bot"

    # ------------------------------------------------------------------ test helpers

    def push_update(self, update: dict) -> int:
        update_id = next(self._update_ids)
        self.updates.put_nowait({"update_id": update_id, **update})
        return update_id

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)]

    def delivered(self, chat_id: int | None = None) -> list[Call]:
        """Messages Telegram accepted (refused calls are recorded too, marked _refused)."""
        return [c for c in self.sent("sendMessage", chat_id) if not c.params.get("_refused")]

    async def wait_for(self, method: str, count: int = 1, chat_id: int | None = None, timeout: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.sent(method, chat_id)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.01)
        raise AssertionError(f"expected {count} {method} call(s) to {chat_id}, got {len(self.sent(method, chat_id))}: "
                             f"{[c.params for c in self.calls if c.method == method][-3:]}")

    async def quiet_for(self, seconds: float = 0.3) -> None:
        """Let the bot process what it was sent."""
        await asyncio.sleep(seconds)

    def add_file(self, file_id: str, content: bytes) -> None:
        self.files[file_id] = content

    # ------------------------------------------------------------------ the API

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token or self.reject_token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        self.calls.append(Call(method, params))
        handler = getattr(self, "_api_" + method, None)
        if handler is None:
            return _ok(True)
        return await handler(params)

    async def _api_getMe(self, params: dict) -> web.Response:
        return _ok({"id": BOT_ID, "is_bot": True, "first_name": "PolicyBot", "username": BOT_USERNAME,
                    "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False})

    async def _api_getUpdates(self, params: dict) -> web.Response:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 1.0)
        batch: list[dict] = []
        try:
            first = await asyncio.wait_for(self.updates.get(), timeout=max(timeout, 0.05))
            batch.append(first)
            while not self.updates.empty():
                batch.append(self.updates.get_nowait())
        except TimeoutError:
            pass
        return _ok([u for u in batch if u["update_id"] >= offset])

    def _flood_check(self, chat_id: int) -> web.Response | None:
        if not self.flood_control:
            return None
        now = time.monotonic()
        self._sent_times = [t for t in self._sent_times if now - t < 1.0]
        recent = self._sent_by_chat.setdefault(chat_id, [])
        recent[:] = [t for t in recent if now - t < 60.0]
        if len(self._sent_times) >= self.global_rate:
            return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        if chat_id < 0 and len(recent) >= self.per_chat_per_minute:
            return _error(429, "Too Many Requests: retry after 3", {"retry_after": 3})
        self._sent_times.append(now)
        recent.append(now)
        return None

    def _message(self, chat_id: int, **fields: Any) -> dict:
        chat_type = "private" if chat_id > 0 else "supergroup"
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": {"id": chat_id, "type": chat_type, **({"title": "group"} if chat_id < 0 else {})},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "PolicyBot", "username": BOT_USERNAME},
                **fields}

    def _check_send(self, params: dict, text_key: str = "text") -> web.Response | None:
        chat_id = int(params.get("chat_id", 0))
        if chat_id in self.forbidden_chats:
            return _error(403, "Forbidden: bot was kicked from the group chat")
        if chat_id in self.migrated_chats:
            return _error(400, "Bad Request: group chat was upgraded to a supergroup chat",
                          {"migrate_to_chat_id": self.migrated_chats[chat_id]})
        if self.failures_to_serve > 0:
            self.failures_to_serve -= 1
            return _error(502, "Bad Gateway")
        text = str(params.get(text_key) or "")
        if text_key == "text" and not text.strip():
            return _error(400, "Bad Request: message text is empty")
        limit = MAX_TEXT if text_key == "text" else 1024
        if visible_length(text, params.get("parse_mode")) > limit:
            return _error(400, "Bad Request: message is too long")
        if params.get("parse_mode") == "HTML" and (err := html_error(text)):
            return _error(400, "Bad Request: " + err)
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(data.encode()) <= 64:
                        return _error(400, "Bad Request: BUTTON_DATA_INVALID")
        return self._flood_check(chat_id)

    async def _api_sendMessage(self, params: dict) -> web.Response:
        if err := self._check_send(params):
            self.calls[-1].params["_refused"] = True
            return err
        self.new_message.set()
        return _ok(self._message(int(params["chat_id"]), text=_plain(params["text"], params.get("parse_mode"))))

    async def _api_editMessageText(self, params: dict) -> web.Response:
        if err := self._check_send(params):
            self.calls[-1].params["_refused"] = True
            return err
        return _ok(self._message(int(params["chat_id"]), text=_plain(params["text"], params.get("parse_mode"))))

    async def _api_sendDocument(self, params: dict) -> web.Response:
        if err := self._check_send(params, "caption"):
            return err
        doc = params.get("document")
        name = doc["filename"] if isinstance(doc, dict) else "file"
        return _ok(self._message(int(params["chat_id"]), document={"file_id": "sent-" + name, "file_unique_id": "u",
                                                                   "file_name": name}))

    async def _api_answerCallbackQuery(self, params: dict) -> web.Response:
        return _ok(True)

    async def _api_getFile(self, params: dict) -> web.Response:
        file_id = params.get("file_id")
        if file_id not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        return _ok({"file_id": file_id, "file_unique_id": "u-" + file_id, "file_size": len(self.files[file_id]),
                    "file_path": f"documents/{file_id}"})

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])

    async def _api_getChatMember(self, params: dict) -> web.Response:
        key = (int(params["chat_id"]), int(params["user_id"]))
        status = self.chat_members.get(key, "member")
        return _ok({"status": status, "user": {"id": key[1], "is_bot": False, "first_name": "U"},
                    **({"can_be_edited": False, "can_manage_chat": True, "can_change_info": True,
                        "can_delete_messages": True, "can_invite_users": True, "can_restrict_members": True,
                        "can_pin_messages": True, "can_promote_members": False, "can_manage_video_chats": True,
                        "can_post_stories": False, "can_edit_stories": False, "can_delete_stories": False,
                        "is_anonymous": False, "can_manage_topics": False} if status == "administrator" else {})})

    async def _api_setMyCommands(self, params: dict) -> web.Response:
        return _ok(True)

    async def _api_deleteWebhook(self, params: dict) -> web.Response:
        return _ok(True)


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        return await request.json()
    form = await request.post()
    out: dict[str, Any] = {}
    for key, value in form.items():
        if hasattr(value, "file"):
            out[key] = {"filename": value.filename, "content": value.file.read()}
        elif key in ("text", "caption", "callback_query_id", "file_id", "parse_mode", "url"):
            out[key] = value
        else:
            try:
                out[key] = json.loads(value)
            except (ValueError, TypeError):
                out[key] = value
    return out


def _plain(text: str, parse_mode: str | None) -> str:
    if parse_mode == "HTML":
        import html

        return html.unescape(re.sub(r"<[^>]+>", "", text))
    return text


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str, parameters: dict | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)


# ---------------------------------------------------------------------- update factories

_message_ids = itertools.count(1)


def make_user(user_id: int = 1001, name: str = "张三") -> dict:
    return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "zh-hans"}


def make_chat(chat_id: int) -> dict:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "张三"}
    return {"id": chat_id, "type": "supergroup", "title": "碳达峰工作群"}


def make_message_update(text: str, chat_id: int = 1001, user_id: int = 1001, *, reply_to: dict | None = None,
                        document: dict | None = None, caption: str | None = None) -> dict:
    """A message update; '/cmd …' and '@bot' texts get their entities like Telegram's."""
    message: dict[str, Any] = {"message_id": next(_message_ids), "date": int(time.time()), "chat": make_chat(chat_id),
                               "from": make_user(user_id)}
    body = caption if document is not None else text
    entities = []
    if body and body.startswith("/"):
        entities.append({"type": "bot_command", "offset": 0, "length": len(body.split()[0])})
    if body:
        for m in re.finditer(r"@\w+", body):
            entities.append({"type": "mention", "offset": _utf16_len(body[: m.start()]), "length": _utf16_len(m.group())})
    if document is not None:
        message["document"] = document
        if caption is not None:
            message["caption"] = caption
            if entities:
                message["caption_entities"] = entities
    else:
        message["text"] = text
        if entities:
            message["entities"] = entities
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return {"message": message}


def make_command_update(text: str, chat_id: int = 1001, user_id: int = 1001) -> dict:
    return make_message_update(text, chat_id, user_id)


def make_callback_update(data: str, chat_id: int = 1001, user_id: int = 1001, message_id: int = 1) -> dict:
    return {"callback_query": {"id": f"cb{next(_message_ids)}", "from": make_user(user_id), "chat_instance": "ci",
                               "data": data,
                               "message": {"message_id": message_id, "date": int(time.time()),
                                           "chat": make_chat(chat_id), "text": "…",
                                           "from": {"id": BOT_ID, "is_bot": True, "first_name": "PolicyBot"}}}}


def bot_message(chat_id: int, message_id: int = 999, text: str = "…") -> dict:
    """A message the bot sent earlier, for reply_to_message."""
    return {"message_id": message_id, "date": int(time.time()), "chat": make_chat(chat_id), "text": text,
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "PolicyBot", "username": BOT_USERNAME}}


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
