"""`policybot subscriptions list|add|remove`: operators manage reminder subscriptions (Telegram chats and
group robots) with the same rules as `/subscribe` and the same store the bot uses."""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit

from bot.config import Config
from knowledge.base import KnowledgeBase
from reminders.filters import FilterError, parse_subscribe
from reminders.models import CHANNEL_NAMES, TELEGRAM, Subscription
from reminders.store import ReminderStore

REMOVED_REASON = "removed by operator (policybot subscriptions remove)"


def masked_url(url: str) -> str:
    """A robot's webhook without its key (the key is a credential): https://host/path…"""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}…"


def describe(sub: Subscription) -> str:
    """#3 Telegram chat -100123  部门=发改委  （cli，2026-11-30）"""
    where = f"Telegram chat {sub.chat_id}" if sub.channel == TELEGRAM \
        else f"{CHANNEL_NAMES[sub.channel]}机器人 {masked_url(sub.webhook_url)}"
    made = f"（{sub.created_by or '未知'}，{sub.created_at.date().isoformat()}）"
    stopped = "" if sub.active else f" 已停用：{sub.disabled_reason or '—'}"
    return f"#{sub.id} {where}  {sub.filter.describe()}  {made}{stopped}"


def run(args: argparse.Namespace, config: Config) -> int:
    kb = KnowledgeBase.open(config.storage.path, seed=config.knowledge.seed_bundled)
    try:
        store = ReminderStore(kb.store.db)
        if args.action == "list":
            return _list(store, args.all)
        if args.action == "add":
            return _add(store, kb, " ".join(args.filter), args.chat)
        return _remove(store, args.ids)
    finally:
        kb.close()


def _list(store: ReminderStore, include_stopped: bool) -> int:
    subs = store.active() if not include_stopped else [
        s for s in (store.get(r[0]) for r in store.db.execute("SELECT id FROM subscriptions ORDER BY id")) if s]
    if not subs:
        print("没有订阅（不会发送任何提醒）。添加：policybot subscriptions add --chat <聊天id> [条件]"
              " 或 policybot subscriptions add webhook=<机器人网址> [条件]")
        return 0
    for sub in subs:
        print(describe(sub))
    return 0


def _add(store: ReminderStore, kb: KnowledgeBase, text: str, chat_id: int | None) -> int:
    try:
        request = parse_subscribe(text, kb.searcher.known_departments())
    except FilterError as e:
        print(f"订阅条件有误：{e}", file=sys.stderr)
        return 2
    if request.channel == TELEGRAM and chat_id is None:
        print("发往 Telegram 须用 --chat 指定聊天 id（群聊的 id 是负数，如 -1001234567890）；"
              "发往企业微信、钉钉、飞书机器人请写 webhook=<网址>", file=sys.stderr)
        return 2
    sub = store.add(chat_id=chat_id, filter=request.filter, created_by="cli", channel=request.channel,
                    webhook_url=request.webhook_url, secret=request.secret)
    print(f"已订阅：{describe(sub)}")
    return 0


def _remove(store: ReminderStore, ids: list[int]) -> int:
    active = {s.id for s in store.active()}
    unknown = [i for i in ids if i not in active]
    store.remove([i for i in ids if i in active], REMOVED_REASON)
    for i in ids:
        if i in active:
            print(f"已停用订阅 #{i}")
    if unknown:
        print("没有这些有效订阅：" + "、".join(f"#{i}" for i in unknown) + "（用 policybot subscriptions list 查看）",
              file=sys.stderr)
        return 1
    return 0
