"""Time one reminder slot for 500 subscribed 钉钉 groups against the fake DingTalk with its limits on.

    .venv/bin/python benchmarks/bench_dingtalk.py [--chats 500] [--runs 3] [--quick]

Groups get groupMessages/send, which DingTalk allows 20 times a second per app (403
Forbidden.AccessDenied.QpsLimitForAppkeyAndApi above that; the fake enforces it over any one-second
window). 500 / 20 = 25 s is the floor; the target is at most 1.2 × that (30 s), every group getting
exactly one message, and a second run sending nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from fakes.dingtalk import QPS_PER_APP_API, FakeDingTalk
from reminder_fixtures import TZ, at, make_item, store_with_items

from bot.dingtalk.api import DingTalkApi
from bot.dingtalk.channel import DingTalkChannel
from knowledge.base import KnowledgeBase
from knowledge.store import StoreWorker
from reminders.calendar import WorkdayCalendar
from reminders.filters import SubscriptionFilter
from reminders.planner import ReminderSettings
from reminders.service import ReminderService


async def one_run(chats: int, path: str) -> dict:
    slot = at("2026-06-23")
    async with FakeDingTalk() as fake, aiohttp.ClientSession() as session:
        kb = KnowledgeBase(store_with_items(path, [make_item(due=date(2026, 6, 30))]))
        worker = StoreWorker()
        try:
            api = DingTalkApi(fake.client_id, fake.client_secret, session, endpoint=fake.base_url)
            channel = DingTalkChannel(api, QPS_PER_APP_API)
            svc = ReminderService(kb, worker, ReminderSettings(digest_weekday=None), WorkdayCalendar(), TZ,
                                  {"dingtalk": channel}, robots={})
            with kb.store.transaction():
                for n in range(chats):
                    fake.groups.add(f"cidbench{n}==")
                    svc.store.add(chat_id=f"cidbench{n}==", channel="dingtalk", filter=SubscriptionFilter(),
                                  created_by="bench", created_at=at("2026-01-01"))
            await api.access_token()  # the token call is not part of a slot's sending
            started = time.perf_counter()
            first = await svc.run_due(slot)
            elapsed = time.perf_counter() - started
            second = await svc.run_due(slot + timedelta(minutes=30))
        finally:
            worker.shutdown()
            kb.close()
        per_chat = Counter(c.body["openConversationId"] for c in fake.delivered("group"))
        return {"elapsed": elapsed, "sent": first.sent, "again": second.sent,
                "once": sum(1 for n in per_chat.values() if n == 1),
                "too_fast": sum(1 for c in fake.sent("group") if c.status == 403)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="100 chats, one run")
    args = parser.parse_args()
    chats, runs = (100, 1) if args.quick else (args.chats, args.runs)
    floor = chats / QPS_PER_APP_API
    print(f"钉钉: {chats} groups at {QPS_PER_APP_API} calls/s, floor {floor:.1f} s, target ≤ {1.2 * floor:.1f} s")
    print(f"{'run':>3} | {'seconds':>7} | {'× floor':>7} | {'sent':>4} | {'exactly once':>12} | {'403 too fast':>12} | "
          f"{'2nd run sent':>12}")
    worst, ok = 0.0, True
    for n in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            r = asyncio.run(one_run(chats, str(Path(tmp) / "bench.db")))
        worst = max(worst, r["elapsed"])
        ok = ok and r["sent"] == r["once"] == chats and r["again"] == 0
        print(f"{n + 1:>3} | {r['elapsed']:>7.2f} | {r['elapsed'] / floor:>7.2f} | {r['sent']:>4} | {r['once']:>12} | "
              f"{r['too_fast']:>12} | {r['again']:>12}")
    ok = ok and worst <= 1.2 * floor
    print(f"worst {worst:.2f} s = {worst / floor:.2f}× floor: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
