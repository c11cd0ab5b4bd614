"""End to end on 飞书: the real `policybot run` process against the fake Feishu on loopback.

One run holds the conversation (a group @-question, a follow-up, a list page, a refused /add, a button
round trip, a dropped connection, bad frames) and makes an admin's item due today with a subscription to
it; the reminder goes out at a scheduler catch-up run, and a restart does not send it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fakes.feishu import FakeFeishu, card_action_event, message_event

from handlers import texts

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "ou_admin0001"
GROUP = "oc_group0001"
REMIND = "oc_remind0001"
CATCH_UP_DONE = re.compile(r'Job "run_safely \(trigger: interval.*executed successfully')


class Bot:
    """One `policybot run` process; its log lines are kept as they come."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.lines: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None
        self._changed = asyncio.Event()

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items()
               if not k.lower().endswith("_proxy") and not k.startswith(("POLICYBOT_FEISHU_", "POLICYBOT_TELEGRAM_"))}
        env.update(PYTHONPATH=str(ROOT), POLICYBOT_CONFIG=str(self.config))
        self.proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env, cwd=ROOT,
                                                         stdout=asyncio.subprocess.DEVNULL,
                                                         stderr=asyncio.subprocess.PIPE)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip())
            self._changed.set()

    async def wait_log(self, pattern: re.Pattern, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while not any(pattern.search(line) for line in self.lines):
                self._changed.clear()
                await self._changed.wait()

    async def stop(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), 20)
        if self._reader is not None:
            await self._reader
        return code

    def count(self, fragment: str) -> int:
        return sum(fragment in line for line in self.lines)


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def write_config(tmp_path: Path, db: Path, fake: FakeFeishu, today: str) -> Path:
    config = tmp_path / "run.toml"
    config.write_text(f"""
[storage]
path = "{db}"
[telegram]
[feishu]
app_id = "{fake.app_id}"
app_secret = "{fake.app_secret}"
domain = "{fake.url}"
admins = ["{ADMIN}"]
[reminders]
send_at = "00:00"
lead_days = [0]
digest_weekday = ""
change_notices = false
workdays = ["{today}"]
""", encoding="utf-8")
    return config


def markdown(message) -> str:
    return message.content["elements"][0]["content"]


async def ask(fake: FakeFeishu, text: str, **kwargs):
    """Push a message and return the reply to it."""
    event = message_event(text, fake=fake, **kwargs)
    asked = event["event"]["message"]["message_id"]
    await fake.push_event(event)
    await fake.wait_for(lambda: any(m.reply_to == asked for m in fake.sent), 20)
    return next(m for m in fake.sent if m.reply_to == asked)


def reminders_to(fake: FakeFeishu, chat: str) -> list:
    return [m for m in fake.sent if m.chat_id == chat and m.reply_to is None]


async def test_policybot_run_on_feishu_end_to_end(tmp_path: Path, seeded_db_file: Path) -> None:
    db = tmp_path / "kb.db"
    shutil.copy(seeded_db_file, db)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    fake = FakeFeishu()
    await fake.start()
    bot = Bot(write_config(tmp_path, db, fake, today.isoformat()))
    bots = [bot]
    try:
        await bot.start()
        await fake.wait_connected(1, timeout=30)
        # An admin's item due today, and this group subscribed to it.
        added = await ask(fake, f"/add 完成全省充电桩布局规划。（省能源局牵头，{today.year}年{today.month}月{today.day}日前完成）",
                          chat_id=REMIND, open_id=ADMIN)
        assert "已新增 1 条" in markdown(added)
        subscribed = await ask(fake, "/subscribe 关键词=充电桩布局", chat_id=REMIND, open_id=ADMIN)
        assert "充电桩布局" in markdown(subscribed)

        answer = await ask(fake, "碳减排支持工具什么时候出台？谁牵头？")
        assert "牵头：人民银行" in markdown(answer) and "2021-06-30" in markdown(answer)
        follow_up = await ask(fake, "那浙江呢？")
        assert "浙江碳减排支持工具" in markdown(follow_up)
        first_page = await ask(fake, "哪些任务是年内持续推进的")
        assert "共找到 6 条，第 1–5 条" in markdown(first_page)
        assert "第 6–6 条" in markdown(await ask(fake, "更多"))

        refused = await ask(fake, "/add 非管理员添加的条目。（省能源局牵头，2027年6月底前完成）", open_id="ou_user0002")
        assert texts.NOT_ADMIN in markdown(refused)

        suggestions = await ask(fake, "充电桩补贴标准")
        button = suggestions.content["elements"][1]["actions"][0]["value"]
        sent_before = len(fake.sent)
        click = await fake.push_event(card_action_event(button, message_id=suggestions.message_id))
        assert (await fake.wait_ack(click, 10)).data["toast"]["type"] == "info"
        await fake.wait_sent(sent_before + 1, 20)
        chosen = fake.sent[-1]
        assert chosen.chat_id == GROUP and f"编号：#{button['choice'].removeprefix('it:')}" in markdown(chosen)

        await fake.send_raw(b"\xff\xff\xff not a frame")
        await fake.push_event({"schema": "2.0", "header": {"event_type": "im.chat.disbanded_v1", "event_id": "e-1"}})
        await fake.drop(clean=False)
        await fake.wait_connected(2, timeout=30)
        assert "人民银行" in markdown(await ask(fake, "谁负责碳减排支持工具？"))

        await bot.wait_log(CATCH_UP_DONE)
        assert await bot.stop() == 0
        # Restarts: the scheduler's catch-up run at each start sends what is due and not yet sent.
        while len(bots) < 3:
            sent_so_far = len(reminders_to(fake, REMIND))
            bot = Bot(bot.config)
            bots.append(bot)
            await bot.start()
            await bot.wait_log(CATCH_UP_DONE)
            assert await bot.stop() == 0
            if sent_so_far == 1:  # it went out before this restart, and this one did not repeat it
                break
    finally:
        for running in bots:
            with contextlib.suppress(Exception):
                await running.stop()
        await fake.close()

    [reminder] = reminders_to(fake, REMIND)
    assert "完成全省充电桩布局规划" in markdown(reminder) and reminder.msg_type == "interactive"
    first = bots[0]
    assert first.count("ignored a malformed frame") == 1 and first.count("'im.chat.disbanded_v1'") == 1
    assert not any("Traceback" in line for b in bots for line in b.lines)
    with contextlib.closing(sqlite3.connect(db)) as con:
        assert con.execute("SELECT count(*) FROM items WHERE text LIKE '%非管理员添加%'").fetchone()[0] == 0
    assert json.dumps(reminder.content, ensure_ascii=False).count("充电桩布局") >= 1
