"""Time one reminder slot for 500 subscribed groups against the fake Bot API with flood control on.

    .venv/bin/python benchmarks/bench_reminders.py [--groups 500] [--runs 3]

Telegram's limit of about 30 messages/s makes 500 / 30 = 16.7 s the floor; the target is at most
1.2 × that (20 s), with every group getting exactly one message.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fake_telegram import FakeTelegram
from reminder_fixtures import at, flood_run

TELEGRAM_RATE = 30


async def one_run(groups: int) -> tuple[float, int, int, int]:
    fake = FakeTelegram()
    fake.flood_control = True
    await fake.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            first, _, elapsed = await flood_run(fake, str(Path(tmp) / "bench.db"), groups, at("2026-06-23"))
        per_chat = Counter(c.params["chat_id"] for c in fake.delivered())
        refused = len(fake.sent()) - len(fake.delivered())
        exactly_once = sum(1 for n in per_chat.values() if n == 1)
        return elapsed, first.sent, exactly_once, refused  # type: ignore[attr-defined]
    finally:
        await fake.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    floor = args.groups / TELEGRAM_RATE
    print(f"{args.groups} groups, floor {floor:.1f} s, target ≤ {1.2 * floor:.1f} s")
    worst = 0.0
    for n in range(args.runs):
        elapsed, sent, once, refused = asyncio.run(one_run(args.groups))
        worst = max(worst, elapsed)
        print(f"run {n + 1}: {elapsed:.2f} s ({elapsed / floor:.2f}× floor), sent {sent}, "
              f"groups with exactly one message {once}, 429s {refused}")
    ok = worst <= 1.2 * floor
    print(f"worst {worst:.2f} s = {worst / floor:.2f}× floor: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
