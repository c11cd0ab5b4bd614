"""钉钉 parsing and rendering: robot messages → neutral messages, lines → markdown, choices → links and back."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from bot.dingtalk.adapter import MAX_TEXT, read_message
from bot.dingtalk.render import (
    SEND_LINK,
    choice_line,
    choice_payload,
    choice_text,
    escape,
    reply_lines,
    title_of,
    to_markdown,
)
from handlers.messages import GROUP, PRIVATE, Choice, OutFile, Reply
from knowledge.answer import Line

NOW = 1_700_000_000_000


def message(**fields) -> dict:
    base = {"conversationId": "cidp2pstaff1==", "conversationType": "1", "senderStaffId": "0123", "msgtype": "text",
            "text": {"content": "碳减排支持工具谁牵头"}, "sessionWebhook": "http://127.0.0.1:1/robot/sendBySession?session=s",
            "sessionWebhookExpiredTime": NOW + 5_400_000, "senderId": "$:LWCP_v1:$x"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize("fields, chat_id, kind, text, addressed, choice, media", [
    ({}, "u:0123", PRIVATE, "碳减排支持工具谁牵头", True, None, False),
    ({"conversationType": "2", "conversationId": "cidG==", "text": {"content": " 那浙江呢？"}, "isInAtList": True},
     "cidG==", GROUP, "那浙江呢？", True, None, False),
    ({"conversationType": "2", "conversationId": "cidG==", "isInAtList": False}, "cidG==", GROUP,
     "碳减排支持工具谁牵头", False, None, False),
    ({"msgtype": "richText", "text": None, "content": {"richText": [{"text": "光伏"}, {"downloadCode": "x"},
                                                                     {"text": "目标"}]}},
     "u:0123", PRIVATE, "光伏目标", True, None, False),
    ({"msgtype": "picture", "text": None, "content": {"downloadCode": "x"}}, "u:0123", PRIVATE, "", True, None, True),
    ({"text": {"content": "下一页 #pg:1a2b3c:2"}}, "u:0123", PRIVATE, "", True, "pg:1a2b3c:2", False),
    ({"text": {"content": "看看 #zz:evil"}}, "u:0123", PRIVATE, "", True, "zz:evil", False),  # forged: core refuses
    ({"senderStaffId": None}, "u:$:LWCP_v1:$x", PRIVATE, "碳减排支持工具谁牵头", True, None, False),
])
def test_robot_messages_become_neutral_messages(fields, chat_id, kind, text, addressed, choice, media):
    incoming, route = read_message(message(**fields), NOW)
    assert (incoming.app, incoming.chat_id, incoming.chat_kind, incoming.text, incoming.addressed, incoming.choice,
            incoming.has_media) == ("dingtalk", chat_id, kind, text, addressed, choice, media)
    assert incoming.check_manager is None
    assert route.chat_id == chat_id and route.group == (kind == GROUP)
    assert route.webhook.endswith("session=s") and route.webhook_expires_ms == NOW + 5_400_000


@pytest.mark.parametrize("fields", [
    {"conversationType": "3"},
    {"conversationId": None},
    {"conversationId": 12},
    {"senderStaffId": None, "senderId": None},
    {"msgtype": "interactiveCard"},
    {"text": "not a dict"},
    {"text": {"content": 5}},
    {"text": {"content": "长" * (MAX_TEXT + 1)}},
    {"msgtype": "richText", "content": "x"},
])
def test_unusable_robot_messages_are_logged_and_ignored(fields, caplog):
    assert read_message(message(**fields), NOW) is None
    assert len([r for r in caplog.records if r.levelname == "WARNING"]) == 1


def test_markdown_escapes_document_text_and_bolds_strong_lines():
    text = to_markdown([Line("答案", strong=True), Line("# 标题 *星* [1] <b>x</b> `c` > q |t|")])
    assert text == "**答案**\n\n＃ 标题 ＊星＊ ［1］ ＜b＞x＜/b＞ ｀c｀ ＞ q ｜t｜"
    assert escape("a\nb") == "a b"


def test_markdown_is_cut_at_a_line_and_keeps_the_choices():
    lines = [Line(f"第{i}行" + "字" * 100) for i in range(200)]
    choices = [Choice("下一页", "pg:1a2b3c:2")]
    text = to_markdown(lines, choices, limit=3000)
    assert len(text.encode()) <= 3000
    parts = text.split("\n\n")
    assert parts[-3] == "…" and parts[-2].startswith("1. [下一页](") and parts[-1] == "（点选项，或回复序号）"
    assert all(p.startswith("第") for p in parts[:-3])


def test_group_choices_are_plain_numbered_lines():
    text = to_markdown([Line("共找到 8 条")], [Choice("下一页", "pg:1a2b3c:2"), Choice("[#3]", "it:3")], group=True)
    assert text == "共找到 8 条\n\n1. 下一页\n\n2. ［＃3］\n\n（@我 并回复序号选择）"


def test_a_choice_link_sends_text_that_maps_back_to_its_payload():
    choice = Choice("第 2 页 [共3页]", "pg:1a2b3c:2", describe="下一页")
    line = choice_line(1, choice)
    assert line.startswith("1. [下一页](" + SEND_LINK)
    sent = unquote(line.split(SEND_LINK, 1)[1][:-1])
    assert sent == choice_text(choice) and choice_payload(sent) == "pg:1a2b3c:2"
    assert "#" not in line.split("](")[0]


@pytest.mark.parametrize("text, payload", [
    ("下一页 #pg:1a2b3c:2", "pg:1a2b3c:2"),
    ("#it:12", "it:12"),
    ("  退订 #us:3  ", "us:3"),
    ("问题里有#号 #1", None),
    ("碳达峰 #it:12 还有话", None),
    ("#IT:12", None),
    ("#it:" + "1" * 70, None),
])
def test_choice_payloads_are_read_only_at_the_end(text, payload):
    assert choice_payload(text) == payload


def test_titles_and_files():
    assert title_of([Line(""), Line("碳减排支持工具")]) == "碳减排支持工具"
    assert len(title_of([Line("长" * 50)])) == 30
    reply = Reply([Line("导出完成")], file=OutFile("items.jsonl", b"{}", caption="知识库导出"))
    assert [line.text for line in reply_lines(reply)][-1].startswith("📎 知识库导出：钉钉里机器人不能直接发送文件")
