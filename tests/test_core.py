"""The neutral conversation driven directly by a fake adapter: who a follow-up belongs to, replies for
everything addressed to the bot, junk commands, subscription limits and pages, order within a chat."""

from __future__ import annotations

import asyncio

from core_harness import ADMIN, talking

from handlers import texts
from handlers.callbacks import parse_callback
from handlers.core import split_command
from handlers.messages import IncomingFile
from reminders.store import MAX_PER_CHAT

GROUP = "-500"
ALICE, BOB = "201", "202"


def test_split_command():
    assert split_command("/ask@policy_bot 问题 二") == ("ask", "问题 二")
    assert split_command("/DEADLINES 60") == ("deadlines", "60")
    assert split_command("/add\n第一行") == ("add", "第一行")
    for text in ("问题", "/", "/ 空格", "/碳达峰", "//x"):
        assert split_command(text) is None, text


async def test_in_a_group_lists_and_follow_ups_belong_to_the_person_who_asked(db_path):
    async with talking(db_path) as talk:
        alice = await talk.text("哪些任务是年内持续推进的", chat=GROUP, sender=ALICE, group=True)
        bob = await talk.text("公交车里新能源车的比例目标", chat=GROUP, sender=BOB, group=True)
        assert "第 1–5 条" in alice and "80%" in bob
        # Bob's "更多" is about no list of his; Alice's pages her own
        assert texts.NO_LIST in await talk.text("更多", chat=GROUP, sender=BOB, group=True)
        assert "第 6–" in await talk.text("更多", chat=GROUP, sender=ALICE, group=True)
        # Bob's follow-up re-asks Bob's question, not Alice's
        follow = await talk.text("那浙江呢？", chat=GROUP, sender=BOB, group=True)
        assert "按“浙江" in follow and "公交" in follow
        # but a page button is the chat's: anyone who sees it may press it
        (listing,) = await talk("哪些任务是年内持续推进的", chat=GROUP, sender=ALICE, group=True)
        nav = next(c.payload for row in listing.choices for c in row if c.payload.startswith("pg:"))
        (page,) = await talk(choice=nav, chat=GROUP, sender=BOB, group=True)
        assert page.replace and "第 6–" in page.text


async def test_group_chatter_is_ignored_and_what_is_addressed_always_gets_a_reply(db_path):
    async with talking(db_path) as talk:
        assert await talk("今天中午吃什么", chat=GROUP, group=True, addressed=False) == []
        assert await talk("/frobnicate", chat=GROUP, group=True, addressed=False) == []
        assert "/help" in await talk.text("/frobnicate")
        assert texts.ASK_USAGE in await talk.text("", chat=GROUP, group=True)
        assert texts.MEDIA_ONLY in await talk.text("", media=True)
        captioned = await talk.text("碳减排支持工具什么时候出台", media=True)
        assert texts.MEDIA_CAPTION_NOTE in captioned and "2021-06-30" in captioned

        async def fetch() -> bytes:
            raise AssertionError("a file sent without /import is never downloaded")

        assert texts.FILE_WITHOUT_COMMAND in await talk.text("", file=IncomingFile("a.txt", 10, fetch))


async def test_forged_choices_get_a_pop_up_and_change_nothing(db_path):
    async with talking(db_path) as talk:
        for data in ("rm -rf /", "it:99999999", "pg:abcdef:1", "it:1;drop", "im:abcdef:y", "us:1", "x" * 5000):
            (reply,) = await talk(choice=data)
            assert reply.alert and reply.text, data
        assert parse_callback("sp:2").page == 2 and parse_callback("sp:x") is None


async def test_junk_admin_input_is_refused_with_the_usage(db_path):
    async with talking(db_path) as talk:
        count = talk.services.kb.store.count_items()
        for text in ("/add 地区=浙江", "/add", "/add 地区=火星 完成任务。", "/edit", "/edit 12", "/delete abc",
                     "/postpone 12", "/history"):
            reply = await talk.text(text, sender=ADMIN)
            assert "用法" in reply or "不认识" in reply, text
        assert talk.services.kb.store.count_items() == count
        bad_url = await talk.text("/import http://[::1", sender=ADMIN)
        assert "只支持 http" in bad_url or "下载失败" in bad_url
        assert texts.NOT_ADMIN in await talk.text("/add 完成任务。", sender=BOB)


async def test_subscriptions_per_chat_are_capped_and_listed_in_pages(db_path):
    async with talking(db_path) as talk:
        refused = 0
        for n in range(300):
            reply = await talk.text(f"/subscribe 关键词{n}号")
            refused += "上限" in reply
        store = talk.services.reminders.store
        assert len(store.for_chat(100)) == MAX_PER_CHAT and refused == 300 - MAX_PER_CHAT
        (listing,) = await talk("/unsubscribe")
        assert "用法" in listing.text and len(listing.choices) == 10 + 1  # ten to unsubscribe, and the pages
        assert len(listing.text) < 4096
        nav = listing.choices[-1][0].payload
        (second,) = await talk(choice=nav)
        assert second.replace and "第 11–20 个" in second.text
        assert "已退订" in await talk.text("/unsubscribe 全部")
        assert store.for_chat(100) == []


async def test_a_chats_messages_are_answered_in_order_and_other_chats_do_not_wait(db_path):
    async with talking(db_path) as talk:
        release = asyncio.Event()
        events: list[str] = []

        async def slow_upload() -> bytes:
            events.append("import started")
            await release.wait()
            return "完成全省充电桩布局规划。（省能源局牵头，2027年6月底前完成）".encode()

        async def import_then_ask() -> None:
            await talk("/import", sender=ADMIN, chat=ADMIN, file=IncomingFile("n.txt", 10, slow_upload))
            events.append("import previewed")
            await talk("碳减排支持工具什么时候出台", sender=ADMIN, chat=ADMIN)
            events.append("admin answered")

        task = asyncio.create_task(import_then_ask())
        while not events:
            await asyncio.sleep(0)
        # waits for nothing in the admin's chat (a chat-wide lock here would never finish: bounded wait)
        await asyncio.wait_for(talk("碳减排支持工具什么时候出台", chat="300", sender="300"), 30)
        events.append("other chat answered")
        release.set()
        await task
        assert events == ["import started", "other chat answered", "import previewed", "admin answered"]
