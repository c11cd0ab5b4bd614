"""End to end: the real Application, polling the fake Bot API over loopback HTTP."""

from __future__ import annotations

from fake_telegram import (
    BOT_USERNAME,
    bot_message,
    make_callback_update,
    make_command_update,
    make_message_update,
)

GROUP = -100200
USER = 1001


async def test_start_sets_commands_and_answers_private_question(fake, bot):
    assert fake.sent("setMyCommands")
    fake.push_update(make_message_update("碳减排支持工具什么时候出台？谁牵头？", chat_id=USER))
    (call,) = await fake.wait_for("sendMessage", chat_id=USER)
    text = call.params["text"]
    assert call.params["parse_mode"] == "HTML"
    assert "<b>实施金融支持绿色低碳发展专项政策，设立碳减排支持工具。</b>" in text
    for fact in ("6月底前出台相关政策", "2021-06-30", "人民银行", "生态环境部", "国发〔2021〕6号"):
        assert fact in text


async def test_group_mention_answers_and_chatter_is_ignored(fake, bot):
    fake.push_update(make_message_update("今天中午吃什么", chat_id=GROUP))
    fake.push_update(make_message_update("大家看下内蒙古的目标", chat_id=GROUP))
    fake.push_update(make_message_update(f"@{BOT_USERNAME} 内蒙古煤炭消费比重要降到多少", chat_id=GROUP))
    calls = await fake.wait_for("sendMessage", chat_id=GROUP)
    await fake.quiet_for(0.3)
    assert len(fake.sent("sendMessage", GROUP)) == 1
    assert "75%" in calls[0].params["text"]


async def test_group_reply_to_bot_and_ask_command(fake, bot):
    fake.push_update(make_message_update("那浙江呢？", chat_id=GROUP, reply_to=bot_message(GROUP)))
    fake.push_update(make_command_update("/ask 核电余热供暖", chat_id=GROUP))
    calls = await fake.wait_for("sendMessage", count=2, chat_id=GROUP)
    assert any("核电余热供暖" in c.params["text"] for c in calls)


async def test_html_breaking_input_is_escaped(fake, bot):
    fake.push_update(make_message_update("<b>碳达峰</b> & <script>alert(1)</script> 碳减排支持工具", chat_id=USER))
    (call,) = await fake.wait_for("sendMessage", chat_id=USER)
    assert not call.params.get("_refused"), "the fake Bot API refused the HTML"
    assert "<script>" not in call.params["text"]


async def test_very_long_message_gets_an_answer_within_limits(fake, bot):
    fake.push_update(make_message_update("碳减排支持工具" + "啊" * 5000, chat_id=USER))
    (call,) = await fake.wait_for("sendMessage", chat_id=USER)
    assert not call.params.get("_refused")
    assert "问题太长" in call.params["text"]


async def test_list_buttons_page_and_show_details(fake, bot):
    fake.push_update(make_message_update("哪些任务是年内持续推进的", chat_id=USER))
    (call,) = await fake.wait_for("sendMessage", chat_id=USER)
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    item_button = keyboard[0][0]["callback_data"]
    assert item_button.startswith("it:")
    fake.push_update(make_callback_update(item_button, chat_id=USER))
    calls = await fake.wait_for("sendMessage", count=2, chat_id=USER)
    assert "编号：#" in calls[1].params["text"]
    nav = [b["callback_data"] for row in keyboard for b in row if b["callback_data"].startswith("pg:")]
    if nav:
        fake.push_update(make_callback_update(nav[0], chat_id=USER))
        (edit,) = await fake.wait_for("editMessageText", chat_id=USER)
        assert "第 6" in edit.params["text"]


async def test_forged_and_stale_buttons_get_a_polite_answer(fake, bot):
    for data in ("rm -rf /", "it:99999999", "pg:abcdef:1", "it:1;drop"):
        fake.push_update(make_callback_update(data, chat_id=USER))
    answers = await fake.wait_for("answerCallbackQuery", count=4)
    assert all(a.params.get("text") for a in answers)
    assert all(a.params.get("show_alert") for a in answers)
    assert not fake.sent("sendMessage", USER)


async def test_help_lists_commands_and_admin_commands_only_for_admins(fake, bot):
    fake.push_update(make_command_update("/help", chat_id=USER, user_id=USER))
    (call,) = await fake.wait_for("sendMessage", chat_id=USER)
    assert "/deadlines" in call.params["text"] and "/edit" not in call.params["text"]


async def test_deadlines_dept_search(fake, bot):
    fake.push_update(make_command_update("/deadlines abc", chat_id=USER))
    fake.push_update(make_command_update("/dept 央行", chat_id=USER))
    fake.push_update(make_command_update("/dept 火星局", chat_id=USER))
    fake.push_update(make_command_update("/search 清洁取暖", chat_id=USER))
    calls = await fake.wait_for("sendMessage", count=4, chat_id=USER)
    texts = [c.params["text"] for c in calls]
    assert any("用法：/deadlines" in t for t in texts)
    assert any("设立碳减排支持工具" in t for t in texts)
    assert any("没有找到部门“火星局”" in t for t in texts)
    assert any("清洁取暖" in t and "共找到" in t for t in texts)


async def test_errors_are_logged_and_the_user_gets_one_polite_line(fake, bot, caplog):
    from bot.services import SERVICES_KEY

    services = bot.bot_data[SERVICES_KEY]

    def broken(*args, **kwargs):
        raise RuntimeError("database is on fire")

    services.kb.ask = broken
    fake.push_update(make_message_update("碳减排支持工具", chat_id=USER))
    (call,) = await fake.wait_for("sendMessage", chat_id=USER)
    assert call.params["text"] == "抱歉，处理您的请求时出错了，请稍后再试。"
    assert "database is on fire" not in call.params["text"]
    assert any("database is on fire" in str(r.exc_info) for r in caplog.records if r.exc_info)
