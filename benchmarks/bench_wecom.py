"""Time one reminder slot for 500 subscribed 企业微信 groups through WeComChannel against the fake long
connection, with the fake's send limits on (45009 past 10 sends/s per bot or 20/min per chat).

    .venv/bin/python benchmarks/bench_wecom.py [--groups 500] [--runs 3] [--quick]

The floor is groups / sends_per_second (500 / 10 = 50 s); the target is at most 1.2 × that, with every
group getting exactly one message. --quick: 60 groups, one run.
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

from fakes.wecom import ERR_TOO_FAST, FakeWeCom
from reminder_fixtures import TZ, at, make_item, store_with_items

from bot.wecom.channel import WeComChannel
from bot.wecom.client import WeComClient
from knowledge.base import KnowledgeBase
from knowledge.store import StoreWorker
from reminders.calendar import WorkdayCalendar
from reminders.models import SubscriptionFilter
from reminders.planner import ReminderSettings
from reminders.service import ReminderService

PER_SECOND, PER_MINUTE_PER_CHAT = 10, 20  # the fake's limits and our [wecom] defaults
BOT, SECRET = "aibBENCH", "bench-secret"


async def one_run(groups: int, path: str) -> tuple[float, int, int, int, int]:
    fake = FakeWeCom(BOT, SECRET, per_chat_per_minute=PER_MINUTE_PER_CHAT, per_bot_per_second=PER_SECOND)
    await fake.start()

    async def ignore(message) -> None:  # type: ignore[no-untyped-def]
        pass

    client = WeComClient(BOT, SECRET, ignore, ws_url=fake.ws_url)
    client.start()
    kb = KnowledgeBase(store_with_items(path, [make_item(due=date(2026, 6, 30))]))
    worker = StoreWorker()
    try:
        await client.wait_connected(10)
        channel = WeComChannel(client, PER_SECOND, PER_MINUTE_PER_CHAT)
        svc = ReminderService(kb, worker, ReminderSettings(digest_weekday=None), WorkdayCalendar(), TZ,
                              {"wecom": channel}, robots={})
        with kb.store.transaction():
            for n in range(groups):
                svc.store.add(chat_id=f"wrBENCH{n:05d}", filter=SubscriptionFilter(), created_by="bench",
                              created_at=at("2026-01-01"), channel="wecom")
        started = time.perf_counter()
        first = await svc.run_due(at("2026-06-23"))
        elapsed = time.perf_counter() - started
        second = await svc.run_due(at("2026-06-23") + timedelta(minutes=30))
        accepted = fake.accepted("aibot_send_msg")
        per_chat = Counter(f.body["chatid"] for f in accepted)
        once = sum(1 for n in per_chat.values() if n == 1)
        too_fast = len([f for f in fake.received("aibot_send_msg") if f.errcode == ERR_TOO_FAST])
        return elapsed, first.sent, second.sent, once, too_fast
    finally:
        await client.stop()
        worker.shutdown()
        kb.close()
        await fake.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="60 groups, one run")
    args = parser.parse_args()
    if args.quick:
        args.groups, args.runs = 60, 1
    floor = args.groups / PER_SECOND
    print(f"企业微信: {args.groups} groups, limits {PER_SECOND}/s per bot and {PER_MINUTE_PER_CHAT}/min per chat, "
          f"floor {floor:.1f} s, target ≤ {1.2 * floor:.1f} s\n")
    print("| run | time | × floor | sent | sent again at the next run | groups with exactly one | 45009s |")
    print("|---|---|---|---|---|---|---|")
    worst = 0.0
    for n in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            elapsed, sent, again, once, too_fast = asyncio.run(one_run(args.groups, str(Path(tmp) / "bench.db")))
        worst = max(worst, elapsed)
        print(f"| {n + 1} | {elapsed:.2f} s | {elapsed / floor:.2f} | {sent} | {again} | {once} | {too_fast} |")
    ok = worst <= 1.2 * floor
    print(f"\nworst {worst:.2f} s = {worst / floor:.2f}× floor: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
