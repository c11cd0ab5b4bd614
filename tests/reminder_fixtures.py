"""Items, subscriptions and clocks for the reminder tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from knowledge.models import Deadline, Departments, Document, Item
from knowledge.store import KnowledgeStore
from reminders.models import TELEGRAM, Subscription, SubscriptionFilter

TZ = ZoneInfo("Asia/Shanghai")


def at(day: str, hm: str = "09:00") -> datetime:
    """A moment in Beijing time: at('2026-06-23') is that day's 09:00 slot."""
    return datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=TZ)


def make_item(item_id: int = 13, due: date | None = date(2026, 6, 30), text: str = "设立碳减排支持工具。",
              lead: tuple[str, ...] = ("人民银行",), support: tuple[str, ...] = ("生态环境部",), region: str = "国家",
              phrase: str = "6月底前出台相关政策", **kw: object) -> Item:
    return Item(text=text, id=item_id, doc_id="d1", region=region, deadlines=[Deadline(phrase, due)],
                departments=Departments(lead, support), **kw)  # type: ignore[arg-type]


def make_subscription(sub_id: int = 1, chat_id: int = -100, created: str = "2026-01-01",
                      flt: SubscriptionFilter | None = None, channel: str = TELEGRAM, url: str = "") -> Subscription:
    return Subscription(sub_id, chat_id, channel, flt or SubscriptionFilter(), at(created, "08:00"), webhook_url=url)


def store_with_items(path: str, items: list[Item]) -> KnowledgeStore:
    """A knowledge store holding one document with these items (ids assigned by the store)."""
    store = KnowledgeStore(path)
    with store.transaction():
        store.save_document(Document(doc_id="d1", source="test", title="关于落实重点工作分工的意见",
                                     date=date(2026, 1, 5)))
        for seq, item in enumerate(items):
            item.id, item.seq = None, seq
            store.insert_item(item, actor="test", action="import")
    return store


async def flood_run(fake, path: str, groups: int, slot: datetime) -> tuple[object, object, float]:  # type: ignore[no-untyped-def]
    """`groups` subscribed groups and one item due a week after `slot`: run the slot, then run again.
    Returns (first report, second report, seconds the first run took). Used by the flood test and
    benchmarks/bench_reminders.py."""
    import time

    from telegram.ext import ExtBot

    from bot.telegram.adapter import rate_limiter
    from bot.telegram.channel import TelegramChannel
    from knowledge.base import KnowledgeBase
    from knowledge.store import StoreWorker
    from reminders.calendar import WorkdayCalendar
    from reminders.planner import ReminderSettings
    from reminders.service import ReminderService

    kb = KnowledgeBase(store_with_items(path, [make_item(due=date(2026, 6, 30))]))
    worker = StoreWorker()
    bot = ExtBot(fake.token, base_url=fake.base_url, rate_limiter=rate_limiter())
    await bot.initialize()
    try:
        svc = ReminderService(kb, worker, ReminderSettings(digest_weekday=None), WorkdayCalendar(), TZ,
                              {"telegram": TelegramChannel(bot)})
        with kb.store.transaction():
            for n in range(groups):
                svc.store.add(chat_id=-1_000_000 - n, filter=SubscriptionFilter(), created_by="test",
                              created_at=at("2026-01-01"))
        started = time.perf_counter()
        first = await svc.run_due(slot)
        elapsed = time.perf_counter() - started
        second = await svc.run_due(slot + timedelta(minutes=30))
        return first, second, elapsed
    finally:
        await bot.shutdown()
        worker.shutdown()
        kb.close()
