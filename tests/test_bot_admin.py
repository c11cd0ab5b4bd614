"""End to end: admins curate the knowledge base from the chat; everyone else is refused."""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.test_utils import TestServer
from bot_harness import ADMIN_ID
from fake_telegram import make_callback_update, make_command_update, make_message_update

from knowledge.store import KnowledgeStore

ADMIN_CHAT = ADMIN_ID
USER = 1001
NOTICE = ("关于推进充电设施建设的通知\n一、完成全省充电桩布局规划。（省能源局牵头，省发展改革委等按职责分工负责，"
          "2027年6月底前完成）\n二、到2027年，全省公共充电桩达到5万个。（省能源局负责）\n浙江省人民政府\n2026年3月1日\n")


async def command(fake, text, chat_id=ADMIN_CHAT, user_id=ADMIN_ID, count=None):
    before = len(fake.sent("sendMessage", chat_id))
    fake.push_update(make_command_update(text, chat_id=chat_id, user_id=user_id))
    calls = await fake.wait_for("sendMessage", count=(count or before + 1), chat_id=chat_id)
    return calls[-1].params["text"]


def item_count(db_path) -> int:
    store = KnowledgeStore(db_path)
    try:
        return store.count_items()
    finally:
        store.close()


async def test_add_edit_delete_undo_history(fake, bot, db_path):
    before = item_count(db_path)
    reply = await command(fake, "/add 完成全省充电桩布局规划。（省能源局牵头，省发展改革委等按职责分工负责，2027年6月底前完成）")
    assert "已新增 1 条" in reply and "2027-06-30" in reply and "牵头：省能源局" in reply
    item_id = int(re.search(r"#(\d+)", reply).group(1))
    assert item_count(db_path) == before + 1

    reply = await command(fake, f"/edit {item_id} 完成全省充电桩布局规划。（省能源局牵头，2028年6月底前完成）")
    assert "已修改" in reply and "2028-06-30" in reply

    reply = await command(fake, f"/delete {item_id}")
    assert "已删除" in reply and item_count(db_path) == before

    reply = await command(fake, "/undo")
    assert "已撤销删除" in reply and item_count(db_path) == before + 1
    reply = await command(fake, "/undo")
    assert "已撤销修改" in reply

    reply = await command(fake, f"/history {item_id}")
    for word in ("新增", "修改", "删除", "撤销"):
        assert word in reply

    answer = await command(fake, "充电桩布局规划什么时候完成", chat_id=USER, user_id=USER)
    assert "2027-06-30" in answer


async def test_non_admin_is_refused_and_nothing_changes(fake, bot, db_path):
    before = item_count(db_path)
    for text in ("/add 新任务。（省能源局负责）", "/delete 1", "/edit 1 改", "/undo", "/export", "/stats", "/import"):
        reply = await command(fake, text, chat_id=USER, user_id=USER)
        assert "只有管理员" in reply
    assert item_count(db_path) == before
    assert not fake.sent("sendDocument")


async def test_bad_admin_input_gets_usage(fake, bot):
    assert "用法：/edit" in await command(fake, "/edit abc")
    assert "用法：/delete" in await command(fake, "/delete")
    assert "没有编号为 #99999" in await command(fake, "/delete 99999")
    assert "用法：/add" in await command(fake, "/add")
    assert "不认识的地区" in await command(fake, "/add 地区=火星 某任务。")
    assert "太长" in await command(fake, "/add " + "很" * 2000)


async def test_document_import_with_confirm(fake, bot, db_path):
    before = item_count(db_path)
    fake.add_file("doc1", NOTICE.encode("utf-8"))
    fake.push_update(make_message_update("", chat_id=ADMIN_CHAT, user_id=ADMIN_ID, caption="/import",
                                         document={"file_id": "doc1", "file_unique_id": "d1",
                                                   "file_name": "notice.txt", "file_size": len(NOTICE.encode())}))
    (preview,) = await fake.wait_for("sendMessage", chat_id=ADMIN_CHAT)
    assert "导入预览" in preview.params["text"] and "共 2 条" in preview.params["text"]
    assert item_count(db_path) == before  # nothing before Confirm
    buttons = preview.params["reply_markup"]["inline_keyboard"][0]
    confirm = next(b["callback_data"] for b in buttons if b["text"] == "确认导入")
    fake.push_update(make_callback_update(confirm, chat_id=ADMIN_CHAT, user_id=USER))  # another user's press
    await fake.wait_for("answerCallbackQuery")
    assert item_count(db_path) == before
    fake.push_update(make_callback_update(confirm, chat_id=ADMIN_CHAT, user_id=ADMIN_ID))
    (done,) = await fake.wait_for("editMessageText", chat_id=ADMIN_CHAT)
    assert "新增 2 条" in done.params["text"]
    assert item_count(db_path) == before + 2
    fake.push_update(make_callback_update(confirm, chat_id=ADMIN_CHAT, user_id=ADMIN_ID))  # pressed twice
    answers = await fake.wait_for("answerCallbackQuery", count=3)
    assert "过期" in answers[-1].params["text"]
    assert item_count(db_path) == before + 2


async def test_import_junk_file_and_cancel(fake, bot, db_path):
    before = item_count(db_path)
    fake.add_file("junk", b"\x00\x01\x02" * 50)
    fake.push_update(make_message_update("", chat_id=ADMIN_CHAT, user_id=ADMIN_ID, caption="/import",
                                         document={"file_id": "junk", "file_unique_id": "j", "file_name": "a.txt",
                                                   "file_size": 150}))
    (reply,) = await fake.wait_for("sendMessage", chat_id=ADMIN_CHAT)
    assert "未导入" in reply.params["text"]
    fake.add_file("doc2", NOTICE.encode())
    fake.push_update(make_message_update("", chat_id=ADMIN_CHAT, user_id=ADMIN_ID, caption="/import",
                                         document={"file_id": "doc2", "file_unique_id": "d2", "file_name": "n.md",
                                                   "file_size": 10}))
    calls = await fake.wait_for("sendMessage", count=2, chat_id=ADMIN_CHAT)
    cancel = calls[-1].params["reply_markup"]["inline_keyboard"][0][1]["callback_data"]
    fake.push_update(make_callback_update(cancel, chat_id=ADMIN_CHAT, user_id=ADMIN_ID))
    (edit,) = await fake.wait_for("editMessageText", chat_id=ADMIN_CHAT)
    assert "已取消" in edit.params["text"]
    assert item_count(db_path) == before


async def test_import_from_url(fake, bot, db_path):
    async def page(request):
        return web.Response(text=f"<html><body><p>{NOTICE.replace(chr(10), '</p><p>')}</p></body></html>",
                            content_type="text/html")

    async def missing(request):
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/notice", page)
    app.router.add_get("/missing", missing)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        reply = await command(fake, f"/import http://127.0.0.1:{server.port}/notice")
        assert "导入预览" in reply
        reply = await command(fake, f"/import http://127.0.0.1:{server.port}/missing")
        assert "HTTP 404" in reply
        reply = await command(fake, "/import ftp://example.org/x.txt")
        assert "只支持 http" in reply
    finally:
        await server.close()


async def test_export_and_stats_with_make_item(fake, bot):
    fake.push_update(make_command_update("/export", chat_id=ADMIN_CHAT, user_id=ADMIN_ID))
    (doc,) = await fake.wait_for("sendDocument", chat_id=ADMIN_CHAT)
    content = doc.params["document"]["content"].decode("utf-8")
    assert "设立碳减排支持工具" in content and content.count("\n") > 300

    await command(fake, "公司年会什么时候举行", chat_id=USER, user_id=USER)
    reply = await command(fake, "/stats")
    assert "公司年会什么时候举行" in reply
    stats_call = fake.sent("sendMessage", ADMIN_CHAT)[-1]
    make = stats_call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    fake.push_update(make_callback_update(make, chat_id=ADMIN_CHAT, user_id=ADMIN_ID))
    calls = await fake.wait_for("sendMessage", count=2, chat_id=ADMIN_CHAT)
    prompt = calls[-1].params
    assert "【新增条目】" in prompt["text"] and prompt["reply_markup"]["force_reply"]
    reply_to = {"message_id": 5, "date": 0, "chat": {"id": ADMIN_CHAT, "type": "private"},
                "from": {"id": 4242, "is_bot": True, "first_name": "PolicyBot"}, "text": prompt["text"]}
    fake.push_update(make_message_update("公司年会于每年12月底前举行。（办公厅负责）", chat_id=ADMIN_CHAT,
                                         user_id=ADMIN_ID, reply_to=reply_to))
    calls = await fake.wait_for("sendMessage", count=3, chat_id=ADMIN_CHAT)
    assert "已新增 1 条" in calls[-1].params["text"]
