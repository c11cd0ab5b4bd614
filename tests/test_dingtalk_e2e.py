"""End to end: the real `policybot run` process against the fake 钉钉 on loopback (issue 12's "Done when")."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sys
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from fakes.dingtalk import FakeDingTalk

from bot.dingtalk.render import SEND_LINK
from knowledge.base import KnowledgeBase

ROOT = Path(__file__).resolve().parents[1]
ADMIN = "admin01"
GROUP = "cidE2Egroup=="
PROXY_VARS = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy", "NO_PROXY", "no_proxy")


class Bot:
    """One `policybot run` process; its log lines are collected as they come."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.log: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS and not k.startswith("POLICYBOT_")}
        env.update(PYTHONPATH=str(ROOT), POLICYBOT_CONFIG=str(self.config))
        self.proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env,
                                                         stdout=asyncio.subprocess.DEVNULL,
                                                         stderr=asyncio.subprocess.PIPE)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc and self.proc.stderr
        async for line in self.proc.stderr:
            self.log.append(line.decode(errors="replace").rstrip())

    async def stop(self) -> int:
        assert self.proc
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), 20)
        if self._reader:
            await asyncio.wait_for(self._reader, 5)
        return code

    def lines(self, fragment: str) -> list[str]:
        return [line for line in self.log if fragment in line]

    async def wait_for_line(self, fragment: str, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not self.lines(fragment):
                await asyncio.sleep(0.1)


def write_config(tmp_path: Path, db: Path, fake: FakeDingTalk, today: str, secret: str | None = None) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(f"""
[storage]
path = "{db}"
[telegram]
[dingtalk]
client_id = "{fake.client_id}"
client_secret = "{secret or fake.client_secret}"
endpoint = "{fake.base_url}"
admins = ["{ADMIN}"]
[reminders]
send_at = "00:00"
retry_minutes = 1
workdays = ["{today}"]
""", encoding="utf-8")
    return path


def text_of(call) -> str:
    return call.body["markdown"]["text"] if "markdown" in call.body else json.loads(call.body["msgParam"])["text"]


async def ask(fake: FakeDingTalk, text: str, **fields) -> str:
    before = len(fake.sent("webhook"))
    await fake.push_message(text, **fields)
    return text_of((await fake.wait_for("webhook", before + 1, timeout=20))[before])


def count_items(db: Path) -> int:
    kb = KnowledgeBase.open(str(db))
    try:
        return kb.store.count_items()
    finally:
        kb.close()


async def test_policybot_run_answers_and_reminds_on_dingtalk(tmp_path, seeded_db_file):
    db = tmp_path / "kb.db"
    shutil.copy(seeded_db_file, db)
    items_before = count_items(db)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    due = today + timedelta(days=7)
    async with FakeDingTalk() as fake:
        bot = Bot(write_config(tmp_path, db, fake, today.isoformat()))
        await bot.start()
        try:
            await fake.wait_connected(timeout=30)
            # an admin adds an item due in 7 days and subscribes the group to it: today's reminder is due
            added = await ask(fake, f"/add 建成全省氢能示范园区。（省能源局牵头，{due.year}年{due.month}月{due.day}日前完成）",
                              staff_id=ADMIN)
            assert "氢能示范园区" in added
            subscribed = await ask(fake, "/subscribe 氢能示范园区", group=True, conversation_id=GROUP, staff_id=ADMIN)
            assert "订阅" in subscribed

            # a group @-question gets the right answer; a follow-up; a list and its next page
            answer = await ask(fake, "碳减排支持工具什么时候出台？谁牵头？", group=True, conversation_id=GROUP)
            assert "人民银行" in answer and "2021-06-30" in answer
            await ask(fake, "公交车里新能源车的比例目标", group=True, conversation_id=GROUP)
            assert "浙江" in await ask(fake, "那浙江呢？", group=True, conversation_id=GROUP)
            first = await ask(fake, "哪些任务是年内持续推进的", group=True, conversation_id=GROUP)
            page = re.search(r"第 (\d+)–\d+ 条", first)
            second = await ask(fake, "更多", group=True, conversation_id=GROUP)
            later = re.search(r"第 (\d+)–\d+ 条", second)
            assert page and later and int(later[1]) > int(page[1])

            # choice round trips: "@robot <number>" in the group, a link's text in a private chat
            choice = re.search(r"(\d+)\. 上一页", second)
            assert SEND_LINK not in second and choice
            by_number = await ask(fake, choice[1], group=True, conversation_id=GROUP)
            assert by_number.split("\n\n")[0] == first.split("\n\n")[0]
            private = await ask(fake, "哪些任务是年内持续推进的")
            links = [unquote(x) for x in re.findall(re.escape(SEND_LINK) + r"([^)]+)\)", private)]
            item_link = next(x for x in links if "#it:" in x)
            shown = await ask(fake, item_link)
            assert "#" + item_link.rsplit(":", 1)[1] in shown.replace("＃", "#")

            # a non-admin's /add is refused
            refused = await ask(fake, "/add 完成全省充电桩布局规划。（省能源局牵头，2027年6月底前完成）", staff_id="someone")
            assert "管理员" in refused

            # bad frames are logged once and ignored; the connection stays
            await fake.send_raw("{not json")
            bad = fake.robot_message("x")
            bad["msgtype"] = "hologram"
            await fake.push_callback("/v1.0/im/bot/messages/get", bad)
            assert "人民银行" in await ask(fake, "碳减排支持工具谁牵头")
            assert len(bot.lines("malformed frame")) == 1 and len(bot.lines("of type 'hologram'")) == 1
            assert len(fake.connections) == 1

            # the fake drops the connection; the next message is still answered
            await fake.drop(abrupt=True)
            await fake.wait_connected(2, timeout=30)
            assert "人民银行" in await ask(fake, "碳减排支持工具谁牵头")

            # exactly one reminder (the catch-up run ~5 s after start, or the next one a minute later)
            [reminder] = await fake.wait_for("group", 1, conversation=GROUP, timeout=80)
            assert "氢能示范园区" in text_of(reminder) and reminder.accepted
        finally:
            assert await bot.stop() == 0, "\n".join(bot.log[-20:])
        assert "Traceback" not in "\n".join(bot.log), "\n".join(bot.log)

        # after a restart, the catch-up run sends nothing again
        again = Bot(bot.config)
        await again.start()
        try:
            await fake.wait_connected(3, timeout=30)
            await again.wait_for_line("executed successfully", 30)  # the catch-up run (~5 s after start) is done
            assert len(fake.sent("group", conversation=GROUP)) == 1
            assert "人民银行" in await ask(fake, "碳减排支持工具谁牵头", group=True, conversation_id=GROUP)
        finally:
            assert await again.stop() == 0
    assert count_items(db) == items_before + 1  # the admin's item only


async def test_a_rejected_secret_stops_policybot_run_with_one_line(tmp_path, seeded_db_file):
    db = tmp_path / "kb.db"
    shutil.copy(seeded_db_file, db)
    async with FakeDingTalk() as fake:
        bot = Bot(write_config(tmp_path, db, fake, "2026-01-01", secret="wrong"))
        await bot.start()
        assert bot.proc is not None and bot._reader is not None
        code = await asyncio.wait_for(bot.proc.wait(), 30)
        await asyncio.wait_for(bot._reader, 5)
    assert code == 2 and not fake.connections
    assert any("client_secret" in line for line in bot.log) and "Traceback" not in "\n".join(bot.log)
