"""The one command table: it feeds set_my_commands, /help and the README (a test keeps them equal)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str
    args: str
    description: str
    admin: bool = False

    def usage(self) -> str:
        return f"/{self.name}" + (f" {self.args}" if self.args else "")


COMMANDS: tuple[Command, ...] = (
    Command("start", "", "开始使用"),
    Command("help", "", "使用说明和命令列表"),
    Command("ask", "<问题>", "提问（群聊中使用）"),
    Command("deadlines", "[天数]", "即将到期的任务（默认 30 天）"),
    Command("dept", "<部门>", "某部门牵头、负责或参与的任务"),
    Command("search", "<关键词>", "按关键词搜索条目"),
    Command("subscribe", "[部门=…] [地区=…] [关键词]", "订阅截止提醒（群里限群管理员）"),
    Command("subscriptions", "", "本聊天的订阅"),
    Command("unsubscribe", "[编号|全部]", "退订"),
    Command("ics", "", "订阅的截止日期导出为日历文件"),
    Command("add", "<政策原文>", "新增条目（按文件原文格式，含责任分工括注）", admin=True),
    Command("edit", "<编号> <新原文>", "修改条目", admin=True),
    Command("delete", "<编号>", "删除条目（可撤销）", admin=True),
    Command("undo", "", "撤销自己的上一次修改", admin=True),
    Command("history", "<编号>", "条目的修改记录", admin=True),
    Command("done", "<编号>", "标记完成（不再提醒）", admin=True),
    Command("postpone", "<编号> <新期限>", "延期（订阅者收到期限调整通知）", admin=True),
    Command("import", "[网址]", "导入文件：发送文件并附言 /import，或 /import 网址", admin=True),
    Command("export", "", "导出知识库（JSONL）", admin=True),
    Command("stats", "", "统计和未能回答的问题", admin=True),
)


def public_commands() -> list[Command]:
    return [c for c in COMMANDS if not c.admin]


def help_lines(is_admin: bool) -> list[str]:
    from handlers import texts

    lines = [texts.HELP_HEADER] + [f"{c.usage()} — {c.description}" for c in public_commands()]
    if is_admin:
        lines += ["", texts.HELP_ADMIN_HEADER]
        lines += [f"{c.usage()} — {c.description}" for c in COMMANDS if c.admin]
    return [*lines, "", texts.HELP_FOOTER]


def readme_table() -> str:
    """The command table as it stands in the README."""
    rows = ["| command | who | what it does |", "|---|---|---|"]
    rows += [f"| `{c.usage()}` | {'admins' if c.admin else 'everyone'} | {c.description} |" for c in COMMANDS]
    return "\n".join(rows)
