"""Neutral replies as 企业微信 markdown and cards (bot/wecom/render.py), and the chat ids the adapter stores."""

from __future__ import annotations

import pytest

from bot.wecom.adapter import neutral_chat, wecom_chat
from bot.wecom.render import (
    BUTTON_MAX_CHARS,
    CARD_MAX_BUTTONS,
    CUT,
    lines_to_markdown,
    plain_text,
    render,
)
from handlers.messages import PRIVATE, Choice, Incoming, OutFile, Reply
from handlers.subscriptions import store_chat_id
from knowledge.answer import Line


def choices(*labels: str) -> list[list[Choice]]:
    return [[Choice(label, f"it:{n}", f"第 {n} 条") for n, label in enumerate(labels, 1)]]


@pytest.mark.parametrize(("lines", "markdown"), [
    ([Line("期限：2021-06-30", strong=True), Line("牵头：人民银行")], "**期限：2021-06-30**\n牵头：人民银行"),
    ([Line("", strong=True), Line("a")], "\na"),  # an empty strong line stays empty, not "****"
    ([], ""),
])
def test_strong_lines_are_bold(lines, markdown):
    assert lines_to_markdown(lines, 4096) == markdown


@pytest.mark.parametrize("limit", [200, 1000, 4096])
def test_long_text_is_cut_at_a_line_within_the_byte_limit(limit):
    lines = [Line(f"第{n}行：碳达峰碳中和") for n in range(500)]
    text = lines_to_markdown(lines, limit, [Line("[1] 下一页")])
    assert len(text.encode()) <= limit
    body = text.split("\n")
    assert body[-1] == "[1] 下一页" and body[-2] == CUT  # the numbered lines survive the cut
    assert all(line.startswith("第") and line.endswith("碳达峰碳中和") for line in body[:-2])


@pytest.mark.parametrize(("rows", "card", "numbered"), [
    (choices("1", "2", "3", "4", "5", "下一页 ›"), 6, 0),  # a list page fits a card
    (choices(*[str(n) for n in range(1, CARD_MAX_BUTTONS + 2)]), 0, CARD_MAX_BUTTONS + 1),  # too many buttons
    (choices("短", "碳" * (BUTTON_MAX_CHARS + 1)), 0, 2),  # a label too long for a button
    (choices("碳" * BUTTON_MAX_CHARS), 1, 0),
    ([], 0, 0),
])
def test_choices_become_a_card_where_they_fit_else_numbered_lines(rows, card, numbered):
    out = render([Reply([Line("找到 6 条")], rows)], max_bytes=4096)
    assert (len(out.card_choices), len(out.numbered)) == (card, numbered)
    assert out.markdown.count("\n[") == numbered
    built = out.card("task_1")
    if card:
        assert built == {"card_type": "button_interaction", "main_title": {"title": "找到 6 条"}, "task_id": "task_1",
                         "button_list": [{"text": c.label, "style": 1, "key": c.payload} for c in out.card_choices]}
    else:
        assert built is None


def test_one_card_per_message_later_choices_are_numbered_from_one():
    out = render([Reply([Line("甲")], choices("是", "否")), Reply([Line("乙")], choices("上一页", "下一页"))],
                 max_bytes=4096)
    assert [c.label for c in out.card_choices] == ["是", "否"]
    assert [c.label for c in out.numbered] == ["上一页", "下一页"]
    assert out.markdown == "甲\n\n乙\n[1] 第 1 条\n[2] 第 2 条"
    assert [c.label for c in render([Reply(choices=choices("是"))], max_bytes=4096, card=False).numbered] == ["是"]


def test_a_file_is_named_and_said_not_to_be_sent():
    out = render([Reply([Line("导出完成")], file=OutFile("items.jsonl", b"{}", caption="共 3 条"))], max_bytes=4096)
    assert "导出完成" in out.markdown and "items.jsonl" in out.markdown and "共 3 条" in out.markdown
    assert "无法通过企业微信机器人发送" in out.markdown


def test_welcome_is_plain_text():
    assert plain_text([Reply([Line("欢迎", strong=True), Line("/help")])], 2048) == "欢迎\n/help"


@pytest.mark.parametrize(("wecom", "stored"), [
    ("wrGROUP0001", "wrGROUP0001"), ("zhangsan", "zhangsan"), ("0012", "#0012"), ("12", "#12"), ("-5", "#-5")])
def test_chat_ids_survive_the_subscription_store(wecom, stored):
    chat = neutral_chat(wecom)
    assert chat == stored and wecom_chat(chat) == wecom
    key = store_chat_id(Incoming(app="wecom", chat_id=chat, chat_kind=PRIVATE, sender_id="u"))
    assert wecom_chat(str(key)) == wecom  # not read as a number: leading zeros kept
