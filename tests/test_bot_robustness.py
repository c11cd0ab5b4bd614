"""End to end through the real Telegram adapter: everything addressed to the bot gets a reply, a button
on an inline message writes to no chat, and a slow import never holds up another chat's answer."""

from __future__ import annotations

import time

from bot_harness import ADMIN_ID
from fake_telegram import make_chat, make_message_update, make_user

USER = 1001


def photo_update(chat_id: int, caption: str | None = None) -> dict:
    message = {"message_id": 77, "date": int(time.time()), "chat": make_chat(chat_id), "from": make_user(chat_id),
               "photo": [{"file_id": "p1", "file_unique_id": "p1", "width": 90, "height": 90}]}
    if caption:
        message["caption"] = caption
    return {"message": message}


async def test_private_chat_gets_a_reply_for_everything(fake, bot):
    fake.push_update(make_message_update("/frobnicate", chat_id=USER))
    (unknown,) = await fake.wait_for("sendMessage", chat_id=USER)
    assert "/help" in unknown.params["text"]
    fake.push_update(photo_update(USER))
    fake.push_update(photo_update(USER, "碳减排支持工具什么时候出台"))
    fake.push_update(make_message_update("", chat_id=USER, caption=None,
                                         document={"file_id": "d9", "file_unique_id": "d9", "file_name": "a.txt",
                                                   "file_size": 10}))
    calls = await fake.wait_for("sendMessage", count=4, chat_id=USER)
    texts = [c.params["text"] for c in calls[1:]]
    assert "只能读文字" in texts[0]
    assert "图片内容无法读取" in texts[1] and "2021-06-30" in texts[1]
    assert "/import" in texts[2]
    assert not fake.sent("getFile")  # a file without /import is never downloaded


async def test_a_button_on_an_inline_message_answers_the_press_and_writes_to_no_chat(fake, bot):
    fake.push_update({"callback_query": {"id": "cb-inline", "from": make_user(USER), "chat_instance": "ci",
                                         "inline_message_id": "AAAA", "data": "it:1"}})
    await fake.wait_for("answerCallbackQuery")
    await fake.quiet_for(0.3)
    assert not fake.sent("sendMessage") and not fake.sent("editMessageText")


def slow_document(tasks: int) -> bytes:
    lines = ["关于推进重点园区节能降碳改造的实施方案", ""]
    lines += [f"{i}.推进第{i}个重点园区的节能降碳改造，到2027年单位产值能耗下降{i % 9 + 1}%。"
              f"（省发展改革委牵头，省经信厅等按职责分工负责，2027年{i % 12 + 1}月底前完成）" for i in range(1, tasks + 1)]
    lines += ["", "浙江省人民政府", "2026年3月1日"]
    return "\n".join(lines).encode()


async def test_another_chats_answer_arrives_while_a_slow_document_is_being_imported(fake, bot):
    data = slow_document(1500)  # under the caps, but it takes a while to parse
    fake.add_file("slow", data)
    fake.push_update(make_message_update("", chat_id=ADMIN_ID, user_id=ADMIN_ID, caption="/import",
                                         document={"file_id": "slow", "file_unique_id": "slow",
                                                   "file_name": "slow.txt", "file_size": len(data)}))
    await fake.wait_for("getFile")  # the import has begun
    fake.push_update(make_message_update("碳减排支持工具什么时候出台", chat_id=USER))
    await fake.wait_for("sendMessage", chat_id=ADMIN_ID, timeout=60)
    order = [c.params["chat_id"] for c in fake.sent("sendMessage")]
    assert order[:2] == [USER, ADMIN_ID], order
    assert "导入预览" in fake.sent("sendMessage", ADMIN_ID)[0].params["text"]
