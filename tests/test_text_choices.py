"""Numbered choices for apps without buttons."""

from __future__ import annotations

from bot.text_choices import NumberedChoices, numbered_lines
from handlers.messages import Choice, Reply


def test_choices_are_numbered_across_replies_and_a_number_picks_the_persons_own():
    replies = [Reply(choices=[[Choice("1", "it:5", "第 1 条详情"), Choice("2", "it:6")]]),
               Reply(choices=[[Choice("下一页 ›", "pg:abcdef:1", "下一页")]])]
    lines, choices = numbered_lines(replies)
    assert lines == ["[1] 第 1 条详情", "[2] 2", "[3] 下一页"]
    shown = NumberedChoices()
    shown.remember(("chat", "alice"), choices)
    assert shown.payload(("chat", "alice"), " 3 ") == "pg:abcdef:1"
    assert shown.payload(("chat", "bob"), "1") is None  # Bob was shown nothing
    for text in ("0", "4", "-1", "1.5", "一", ""):
        assert shown.payload(("chat", "alice"), text) is None, text
    shown.remember(("chat", "alice"), [])  # a reply without choices keeps the last ones
    assert shown.payload(("chat", "alice"), "1") == "it:5"
