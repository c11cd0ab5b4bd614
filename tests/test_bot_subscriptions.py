"""End to end through the real Application: subscriptions from the chat, who may make them, the
unsubscribe buttons, /ics, /done and /postpone, group migration and the bot being removed."""

from __future__ import annotations

import time

from bot_harness import ADMIN_ID
from fake_telegram import BOT_ID, make_callback_update, make_chat, make_command_update, make_user
from test_bot_admin import command

from bot.services import SERVICES_KEY

GROUP = -100500
MEMBER = 2002
GROUP_ADMIN = 2003


def reminder_store(bot):
    return bot.bot_data[SERVICES_KEY].reminders.store


async def test_group_members_may_not_subscribe_group_admins_may(fake, bot):
    fake.chat_members[(GROUP, GROUP_ADMIN)] = "administrator"
    reply = await command(fake, "/subscribe", chat_id=GROUP, user_id=MEMBER)
    assert "只有群管理员" in reply and reminder_store(bot).for_chat(GROUP) == []
    reply = await command(fake, "/subscribe 部门=发改委 地区=内蒙古", chat_id=GROUP, user_id=GROUP_ADMIN)
    assert "已订阅 #" in reply and "部门=发改委，地区=内蒙古" in reply
    (sub,) = reminder_store(bot).for_chat(GROUP)
    assert sub.filter.cores == ("发展改革委",) and sub.filter.region == "内蒙古自治区"
    again = await command(fake, "/subscribe 部门=发改委 地区=内蒙古", chat_id=GROUP, user_id=GROUP_ADMIN)
    assert f"#{sub.id}" in again and len(reminder_store(bot).for_chat(GROUP)) == 1  # no duplicate


async def test_bad_filters_get_a_polite_answer_and_change_nothing(fake, bot):
    for text, expected in (("/subscribe 部门=火星局", "不认识部门"), ("/subscribe 地区=火星", "不认识地区"),
                           ("/subscribe 部门=", "缺少内容"), ("/subscribe " + "碳" * 500, "参数太长"),
                           ("/subscribe webhook=ftp://x", "https://")):
        reply = await command(fake, text, chat_id=MEMBER, user_id=MEMBER)
        assert expected in reply and "用法" in reply, text
    assert reminder_store(bot).for_chat(MEMBER) == []


async def test_only_bot_admins_may_push_to_robots(fake, bot):
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"
    reply = await command(fake, f"/subscribe webhook={url}", chat_id=MEMBER, user_id=MEMBER)
    assert "只有机器人管理员" in reply
    reply = await command(fake, f"/subscribe 部门=生态环境部 webhook={url}", chat_id=ADMIN_ID, user_id=ADMIN_ID)
    assert "推送到企业微信机器人" in reply
    (sub,) = reminder_store(bot).for_chat(ADMIN_ID)
    assert (sub.channel, sub.webhook_url) == ("wecom", url)


async def test_list_and_unsubscribe_by_command_and_by_button(fake, bot):
    await command(fake, "/subscribe 光伏", chat_id=MEMBER, user_id=MEMBER)
    await command(fake, "/subscribe 部门=央行", chat_id=MEMBER, user_id=MEMBER)
    first, second = reminder_store(bot).for_chat(MEMBER)
    listing = await command(fake, "/subscriptions", chat_id=MEMBER, user_id=MEMBER)
    assert f"#{first.id} 关键词=光伏" in listing and f"#{second.id} 部门=央行" in listing
    reply = await command(fake, "/unsubscribe", chat_id=MEMBER, user_id=MEMBER)
    assert "用法" in reply  # two subscriptions: which one?
    reply = await command(fake, "/unsubscribe 99999", chat_id=MEMBER, user_id=MEMBER)
    assert "没有编号为 #99999" in reply
    reply = await command(fake, f"/unsubscribe {first.id}", chat_id=MEMBER, user_id=MEMBER)
    assert f"已退订 #{first.id}" in reply

    # a forged button for another chat's subscription changes nothing
    await command(fake, "/subscribe", chat_id=GROUP + 1, user_id=ADMIN_ID)
    (other,) = reminder_store(bot).for_chat(GROUP + 1)
    fake.push_update(make_callback_update(f"us:{other.id}", chat_id=MEMBER, user_id=MEMBER))
    await fake.quiet_for(0.3)
    assert reminder_store(bot).for_chat(GROUP + 1) == [other]
    fake.push_update(make_callback_update(f"us:{second.id}", chat_id=MEMBER, user_id=MEMBER))
    await fake.wait_for("sendMessage", count=1, chat_id=MEMBER, timeout=5)
    await fake.quiet_for(0.3)
    assert reminder_store(bot).for_chat(MEMBER) == []


async def test_ics_has_the_subscribed_future_deadlines(fake, bot):
    reply = await command(fake, "/ics", chat_id=MEMBER, user_id=MEMBER)
    assert "没有订阅" in reply
    await command(fake, "/add 完成全省充电桩布局规划。（省能源局牵头，2027年6月底前完成）", chat_id=ADMIN_ID)
    await command(fake, "/subscribe 充电桩", chat_id=MEMBER, user_id=MEMBER)
    fake.push_update(make_command_update("/ics", chat_id=MEMBER, user_id=MEMBER))
    (call,) = await fake.wait_for("sendDocument", chat_id=MEMBER)
    body = call.params["document"]["content"].decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and "DTSTART;VALUE=DATE:20270630" in body
    assert body.count("BEGIN:VEVENT") == 1 and "SUMMARY:完成全省充电桩布局规划。" in body


async def test_done_and_postpone_are_for_admins_and_check_their_dates(fake, bot):
    reply = await command(fake, "/add 完成全省充电桩布局规划。（省能源局牵头，2027年6月底前完成）", chat_id=ADMIN_ID)
    item_id = reply.split("#")[1].split()[0]
    assert "只有管理员" in await command(fake, f"/done {item_id}", chat_id=MEMBER, user_id=MEMBER)
    assert "不存在" in await command(fake, f"/postpone {item_id} 2027-02-30", chat_id=ADMIN_ID)
    assert "早于今天" in await command(fake, f"/postpone {item_id} 2020年1月1日", chat_id=ADMIN_ID)
    assert "用法" in await command(fake, f"/postpone {item_id}", chat_id=ADMIN_ID)
    reply = await command(fake, f"/postpone {item_id} 2027年9月30日", chat_id=ADMIN_ID)
    assert "已延期" in reply and "2027-09-30" in reply
    reply = await command(fake, f"/done {item_id}", chat_id=ADMIN_ID)
    assert "已标记完成" in reply
    answer = await command(fake, "充电桩布局规划什么时候完成", chat_id=MEMBER, user_id=MEMBER)
    assert "已标记完成" in answer or "已完成" in answer


async def test_migration_and_removal_follow_the_chat(fake, bot):
    await command(fake, "/subscribe", chat_id=GROUP, user_id=ADMIN_ID)
    (sub,) = reminder_store(bot).for_chat(GROUP)
    fake.push_update({"message": {"message_id": 1, "date": int(time.time()), "chat": make_chat(GROUP),
                                  "from": make_user(ADMIN_ID), "migrate_to_chat_id": GROUP - 1_000_000_000}})
    await fake.quiet_for(0.5)
    assert reminder_store(bot).get(sub.id).chat_id == GROUP - 1_000_000_000
    new_group = GROUP - 1_000_000_000
    fake.push_update({"my_chat_member": {
        "chat": make_chat(new_group), "from": make_user(ADMIN_ID), "date": int(time.time()),
        "old_chat_member": {"status": "member", "user": {"id": BOT_ID, "is_bot": True, "first_name": "PolicyBot"}},
        "new_chat_member": {"status": "kicked", "until_date": 0,
                            "user": {"id": BOT_ID, "is_bot": True, "first_name": "PolicyBot"}}}})
    await fake.quiet_for(0.5)
    assert reminder_store(bot).for_chat(new_group) == []
    assert "removed" in reminder_store(bot).get(sub.id).disabled_reason
