"""500 subscribed groups, one due item, the fake Bot API's flood control on (429 + retry_after past
30 messages/s overall or 20/min per group): every group gets exactly one reminder.
benchmarks/bench_reminders.py times the same run."""

from __future__ import annotations

from collections import Counter

from reminder_fixtures import at, flood_run

GROUPS = 500


async def test_500_groups_under_flood_control_each_get_exactly_one_reminder(fake, tmp_path):
    fake.flood_control = True
    first, second, _ = await flood_run(fake, str(tmp_path / "flood.db"), GROUPS, at("2026-06-23"))
    delivered = Counter(c.params["chat_id"] for c in fake.delivered())
    assert first.sent == GROUPS and second.sent == 0
    assert len(delivered) == GROUPS and set(delivered.values()) == {1}
    assert all(chat_id <= -1_000_000 for chat_id in delivered)
