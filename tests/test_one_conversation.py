"""One scripted conversation through the neutral core (a fake adapter), the console and Telegram:
the same facts at each step — item ids, due dates, departments, list length."""

from __future__ import annotations

import html
import io
import re
import shutil

from bot_harness import ADMIN_ID, running_bot
from fake_telegram import make_callback_update, make_message_update

from bot.config import parse_config
from bot.console import converse
from bot.services import attach_reminders, close_services, open_services
from handlers.core import Conversation
from handlers.messages import PRIVATE, Incoming, Reply
from reminders.service import SendResult

CHOOSE_FIRST = object()  # press the first choice of the previous reply
SCRIPT = [
    "碳减排支持工具什么时候出台？谁牵头？",
    "公交车里新能源车的比例目标",
    "那浙江呢？",  # a follow-up
    "哪些任务是年内持续推进的",
    "更多",  # the list's next page
    "充电桩补贴标准",  # not found: 您是不是想问 …
    CHOOSE_FIRST,
    "/deadlines 400",
    "/subscribe 部门=发改委",
    "/subscriptions",
    "/add 完成全省充电桩布局规划。（省能源局牵头，省发展改革委等按职责分工负责，2027年6月底前完成）",
    "/undo",
]
SUBSCRIPTIONS = SCRIPT.index("/subscriptions")
SUBSCRIBE = SCRIPT.index("/subscribe 部门=发改委")


def facts(step: int, text: str) -> dict:
    text = re.sub(r"(?m)^  \[\d+\] .*$", "", text)  # the console's numbered choices are buttons elsewhere
    if step == SUBSCRIBE:  # what the subscription would remind about (the console only previews it)
        text = "\n".join(line for line in text.splitlines() if line.startswith("· "))
    return {
        "ids": re.findall(r"#(\d+)", text),
        "dates": re.findall(r"\d{4}-\d{2}-\d{2}", text),
        "departments": re.findall(r"(?:牵头|参与|负责)：([^\n（]+)", text),
        "list": re.findall(r"共找到 (\d+) 条|共 (\d+) 条符合", text),
    }


def config_for(db_path, **extra):
    return parse_config({"storage": {"path": str(db_path)}, "reminders": {"enabled": False}, **extra})


class RecordingChannel:
    async def send(self, subscription, lines):
        return SendResult.sent()


async def through_core(db_path) -> list[str]:
    config = config_for(db_path, telegram={"admins": [ADMIN_ID]})
    services = await open_services(config)
    await attach_reminders(services, config, {"telegram": RecordingChannel()})
    conversation = Conversation(services)
    texts: list[str] = []
    last: list[Reply] = []
    try:
        for step in SCRIPT:
            choice = last[-1].choices[0][0].payload if step is CHOOSE_FIRST else None
            incoming = Incoming(app="telegram", chat_id=str(ADMIN_ID), chat_kind=PRIVATE, sender_id=str(ADMIN_ID),
                                text="" if choice else step, addressed=True, choice=choice)
            got: list[Reply] = []

            async def send(replies, got=got):
                got.extend(replies)

            await conversation.handle(incoming, send)
            last = got
            texts.append("\n".join(r.text for r in got))
    finally:
        await close_services(services)
    return texts


async def through_console(db_path, tmp_path) -> list[str]:
    lines = ["1" if step is CHOOSE_FIRST else step for step in SCRIPT]
    out = io.StringIO()
    assert await converse(config_for(db_path), None, io.StringIO("\n".join(lines) + "\n"), out, tmp_path) == 0
    return [part.strip() for part in out.getvalue().split("机器人> ")[1:]]


async def through_telegram(fake, db_path) -> list[str]:
    texts: list[str] = []
    async with running_bot(fake, db_path):
        for step in SCRIPT:
            before = len(fake.sent("sendMessage", ADMIN_ID))
            if step is CHOOSE_FIRST:
                markup = fake.sent("sendMessage", ADMIN_ID)[-1].params["reply_markup"]
                fake.push_update(make_callback_update(markup["inline_keyboard"][0][0]["callback_data"],
                                                      chat_id=ADMIN_ID, user_id=ADMIN_ID))
            else:
                fake.push_update(make_message_update(step, chat_id=ADMIN_ID, user_id=ADMIN_ID))
            calls = await fake.wait_for("sendMessage", count=before + 1, chat_id=ADMIN_ID)
            texts.append(html.unescape(re.sub(r"<[^>]+>", "", calls[-1].params["text"])))
    return texts


async def test_one_script_gives_the_same_facts_in_the_core_the_console_and_telegram(fake, seeded_db_file, tmp_path):
    copies = []
    for name in ("core", "console", "telegram"):
        path = tmp_path / f"{name}.db"
        shutil.copy(seeded_db_file, path)
        copies.append(path)
    core = await through_core(copies[0])
    console = await through_console(copies[1], tmp_path)
    telegram = await through_telegram(fake, copies[2])
    assert len(core) == len(console) == len(telegram) == len(SCRIPT)

    for step, (a, b, c) in enumerate(zip(core, console, telegram, strict=True)):
        assert facts(step, a) == facts(step, c), (SCRIPT[step], a, c)
        if step != SUBSCRIPTIONS:  # the console receives no pushes, so it holds no subscriptions to list
            assert facts(step, a) == facts(step, b), (SCRIPT[step], a, b)

    # and the facts are the right ones, not just equal
    assert "2021-06-30" in core[0] and "人民银行" in core[0]
    assert "浙江" in core[2]
    assert facts(3, core[3])["list"] and re.search(r"第 6–", core[4])
    assert facts(6, core[6])["ids"] == facts(5, core[5])["ids"][:1]  # the first suggestion, in full
    assert "已订阅" in core[SUBSCRIBE] and "部门=发改委" in core[SUBSCRIPTIONS]
    assert "已新增 1 条" in core[10] and "2027-06-30" in core[10] and "已撤销新增" in core[11]
    assert "这里收不到推送提醒" in console[SUBSCRIPTIONS]


async def test_the_console_understands_every_command_an_ordinary_user_has(db_path, tmp_path):
    from handlers.commands import public_commands

    commands = [c.usage().split()[0] for c in public_commands()]
    out = io.StringIO()
    await converse(config_for(db_path), None, io.StringIO("\n".join(commands) + "\n"), out, tmp_path)
    replies = [part.strip() for part in out.getvalue().split("机器人> ")[1:]]
    assert len(replies) == len(commands)
    for command, reply in zip(commands, replies, strict=True):
        assert "没有找到与" not in reply and "没有“/" not in reply and "出错" not in reply, (command, reply)
