"""End to end: the real `policybot run` process on 企业微信, against the loopback fake long connection.

One process answers everything a group does (a question, a follow-up, a list page by "更多" and by a
card's button, a refused /add, a dropped connection, bad frames); an admin subscribes the group and
adds an item due today, so the scheduler's catch-up run (5 s after start) reminds; a restart sends
nothing more."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fakes.wecom import FakeWeCom

from handlers import texts
from knowledge.store import KnowledgeStore

ROOT = Path(__file__).resolve().parent.parent
BOT, SECRET = "aibRUNBOT", "run-secret"
ADMIN, BOB, GROUP = "admin01", "bob", "wrGROUPRUN"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "WS_PROXY", "WSS_PROXY", "NO_PROXY")
CATCH_UP = 5  # seconds after start (reminders/schedule.py START_DELAY)


def write_config(tmp_path: Path, db: Path, ws_url: str) -> Path:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    config = tmp_path / "wecom.toml"
    config.write_text(f"""
[storage]
path = "{db}"
[telegram]
[wecom]
bot_id = "{BOT}"
ws_url = "{ws_url}"
admins = ["{ADMIN}"]
[reminders]
send_at = "00:00"
lead_days = [0]
digest_weekday = ""
workdays = ["{today.isoformat()}"]
""", encoding="utf-8")
    return config


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items()
           if k.upper() not in PROXY_VARS and not k.startswith("POLICYBOT_")}
    return {**out, "PYTHONPATH": str(ROOT), "POLICYBOT_WECOM_SECRET": SECRET}  # the secret from the environment


@contextlib.asynccontextmanager
async def policybot_run(config: Path, log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("ab") as err:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", "--config", str(config),
                                                    env=env(), stdout=asyncio.subprocess.DEVNULL, stderr=err)
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 20)


def answers(fake: FakeWeCom) -> list[str]:
    out = []
    for f in fake.frames:
        if f.errcode != 0 or not isinstance(f.body, dict):
            continue
        if f.cmd == "aibot_respond_msg":
            out.append(f.body["stream"]["content"])
        elif f.cmd == "aibot_send_msg" and f.body["msgtype"] == "markdown":
            out.append(f.body["markdown"]["content"])
    return out


def reminders(fake: FakeWeCom) -> list[str]:
    return [a for a in answers(fake) if a.lstrip("*").startswith("政策截止提醒")]


def replies(fake: FakeWeCom) -> list[str]:
    return [a for a in answers(fake) if a not in reminders(fake)]


async def ask(fake: FakeWeCom, text: str, userid: str = BOB) -> str:
    before = len(replies(fake))
    await fake.push_text(text, chattype="group", chatid=GROUP, userid=userid)
    await fake.wait_for(predicate=lambda f: len(replies(fake)) > before, timeout=20)
    return replies(fake)[before]


async def logged(log: Path, text: str, timeout: float = 20) -> None:
    for _ in range(int(timeout / 0.1)):
        if text in log.read_text(encoding="utf-8"):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{text!r} not logged")


async def test_policybot_run_on_wecom(seeded_db_file, tmp_path):
    db = tmp_path / "kb.db"
    shutil.copy(seeded_db_file, db)
    before = KnowledgeStore(db)
    items = before.count_items()
    before.close()
    log = tmp_path / "run.log"
    fake = FakeWeCom(BOT, SECRET)
    await fake.start()
    config = write_config(tmp_path, db, fake.ws_url)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    try:
        async with policybot_run(config, log):
            first = await fake.wait_subscribed(timeout=30)
            # an admin subscribes the group and adds an item due today (before the catch-up run)
            assert "订阅" in await ask(fake, "/subscribe 充电桩布局规划", userid=ADMIN)
            added = await ask(fake, f"/add 完成全省充电桩布局规划。（省能源局牵头，{today.year}年{today.month}月{today.day}日前完成）",
                              userid=ADMIN)
            assert "充电桩布局规划" in added
            # a group @-question, a follow-up, a list page by "更多" and by the card's button
            answer = await ask(fake, "碳减排支持工具什么时候出台？谁牵头？")
            assert "2021-06-30" in answer and "人民银行" in answer
            await ask(fake, "公交车里新能源车的比例目标")
            assert "浙江" in await ask(fake, "那浙江呢？")
            assert "第 1–5 条" in await ask(fake, "工业领域碳达峰有哪些任务")
            card = fake.received("aibot_respond_msg")[-1].body["template_card"]
            assert "第 6" in await ask(fake, "更多")
            nxt = next(b["key"] for b in card["button_list"] if "下一页" in b["text"])
            pushed = len(replies(fake))
            await fake.push_card_click(nxt, card["task_id"], chattype="group", chatid=GROUP, userid=BOB)
            await fake.wait_for(predicate=lambda f: len(replies(fake)) > pushed, timeout=20)
            assert "第 6" in replies(fake)[pushed]
            # a non-admin's /add is refused
            assert texts.NOT_ADMIN in await ask(fake, "/add 完成全省充电桩布局规划二期。（省能源局牵头，2027年6月底前完成）")
            # bad frames: logged, ignored
            await fake.push_raw("{not json")
            await fake.push_unknown_cmd()
            await fake.push_card_click("forged:data", "t-x", chattype="group", chatid=GROUP, userid=BOB)
            # the connection drops; the next message is still answered
            await fake.drop()
            await fake.wait_subscribed(timeout=20, after=first)
            assert "2021-06-30" in await ask(fake, "碳减排支持工具什么时候出台？")
            await fake.wait_for(predicate=lambda f: len(reminders(fake)) >= 1, timeout=CATCH_UP + 20)
            await logged(log, "reminders at")  # the run recorded it (stopping mid-run is the crash window)
        # a restart: the catch-up run finds it sent
        async with policybot_run(config, log):
            second = await fake.wait_subscribed(timeout=30, after=fake.connections[-1].number)
            await asyncio.sleep(CATCH_UP + 3)
            assert fake.connections[-1].number == second
    finally:
        await fake.close()
    sent = reminders(fake)
    assert len(sent) == 1 and "充电桩布局规划" in sent[0]
    assert fake.accepted("aibot_send_msg")[-1].body["chatid"] == GROUP
    after = KnowledgeStore(db)
    assert after.count_items() == items + 1  # the admin's item, not Bob's
    after.close()
    lines = log.read_text(encoding="utf-8").splitlines()
    assert sum("not JSON" in line for line in lines) == 1
    assert sum("unknown cmd" in line for line in lines) == 1
    assert sum("forged:data" in line for line in lines) == 1
    assert "Traceback" not in "\n".join(lines), "\n".join(lines[-30:])
    assert json.dumps(SECRET) not in "\n".join(lines)


async def test_policybot_run_with_a_rejected_secret_is_one_line(seeded_db_file, tmp_path):
    db = tmp_path / "kb.db"
    shutil.copy(seeded_db_file, db)
    fake = FakeWeCom(BOT, "another-secret")
    await fake.start()
    log = tmp_path / "run.log"
    try:
        async with policybot_run(write_config(tmp_path, db, fake.ws_url), log) as proc:
            code = await asyncio.wait_for(proc.wait(), 30)
    finally:
        await fake.close()
    text = log.read_text(encoding="utf-8")
    assert code == 2 and "POLICYBOT_WECOM_SECRET" in text and "Traceback" not in text
