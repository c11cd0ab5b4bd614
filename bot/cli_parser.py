"""argparse in Chinese: its own messages translated, and argument types that check their range.

argparse formats its errors in English before `error()` sees them; `translate` maps each of its
templates (Python 3.11–3.13 wording) to Chinese, and the parser prints usage and error in Chinese.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from datetime import date, datetime
from typing import NoReturn

from knowledge.lazyre import lazy_compile

TYPE_NAMES = {"int": "整数", "float": "数字"}
GROUP_TITLES = {"positional arguments": "位置参数", "options": "选项", "optional arguments": "选项"}

# (argparse's English template as a regex, Chinese); "argument X: …" is handled first, recursively.
# Compiled when an error is first translated.
_TEMPLATES: list[tuple[re.Pattern[str], str]] = [
    (lazy_compile(p, re.S), zh) for p, zh in [
        (r"invalid choice: (?P<value>.+?) \(choose from (?P<choices>.*)\)", "无效的选择：{value}（可选：{choices}）"),
        (r"the following arguments are required: (?P<names>.*)", "缺少必需的参数：{names}"),
        (r"expected one argument", "需要一个值"),
        (r"expected at most one argument", "最多只能有一个值"),
        (r"expected at least one argument", "至少需要一个值"),
        (r"expected (?P<n>\d+) arguments?", "需要 {n} 个值"),
        (r"unrecognized arguments: (?P<args>.*)", "无法识别的参数：{args}"),
        (r"invalid (?P<type>\S+) value: (?P<value>.*)", "无效的{type}值：{value}"),
        (r"ambiguous option: (?P<option>\S+) could match (?P<matches>.*)", "选项 {option} 有歧义，可能是：{matches}"),
        (r"not allowed with argument (?P<other>.*)", "不能与 {other} 同时使用"),
        (r"ignored explicit argument (?P<value>.*)", "多余的值：{value}"),
        (r"one of the arguments (?P<names>.*) is required", "须给出其中之一：{names}"),
        (r"unknown parser (?P<name>.+?) \(choices: (?P<choices>.*)\)", "没有这个命令：{name}（可选：{choices}）"),
        (r"unexpected option string: (?P<option>.*)", "意外的选项：{option}"),
    ]
]
_ARGUMENT = lazy_compile(r"argument (?P<name>.+?): (?P<rest>.*)", re.S)


def translate(message: str) -> str:
    """argparse's English error message in Chinese; a message it does not know stays as it is."""
    m = _ARGUMENT.fullmatch(message)
    if m:
        return f"参数 {m['name']}：{translate(m['rest'])}"
    for pattern, zh in _TEMPLATES:
        m = pattern.fullmatch(message)
        if m:
            values = m.groupdict()
            if "type" in values:
                values["type"] = TYPE_NAMES.get(values["type"], values["type"])
            return zh.format(**values)
    return message


def terminal_columns() -> int:
    """`shutil.get_terminal_size().columns`, which argparse asks for at every option it adds; importing
    shutil (and with it bz2, lzma, …) would cost a cold start more than the whole parser does."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):  # no stdout, not a terminal
        return 80


class ChineseHelpFormatter(argparse.HelpFormatter):
    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, terminal_columns() - 2 if width is None else width)

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


class ChineseArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage, help and errors are Chinese; errors exit with status 2."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        add_help = kwargs.pop("add_help", True)
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)  # type: ignore[misc]  # popped above
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help="显示帮助并退出")

    def add_argument_group(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        """argparse's own groups get Chinese titles as they are made (before parents' options join them)."""
        if args and args[0] in GROUP_TITLES:
            args = (GROUP_TITLES[args[0]], *args[1:])
        return super().add_argument_group(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：错误：{translate(message)}\n")


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argument type: a whole number from `low` to `high`, else a Chinese message."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"须为 {low} 到 {high} 之间的整数，收到 {text!r}")
        return value

    return parse


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是有效日期：{text!r}（格式 YYYY-MM-DD，例如 2021-03-26）") from None


def iso_datetime(text: str) -> datetime:
    """A date or a date-time; naive (the caller puts it in the right time zone)."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是有效时间：{text!r}（例如 2026-06-23T09:00）") from None
