"""The text of a reminder message, as plain lines that each channel formats its own way.

  设立碳减排支持工具 — 还剩7天（6月底前出台相关政策，2026-06-30；人民银行牵头）
"""

from __future__ import annotations

from datetime import date

from knowledge.answer import Line, clip
from knowledge.models import Item
from reminders.calendar import WorkdayCalendar, calendar_note
from reminders.models import Delivery, Notice

TITLE = "政策截止提醒"
ITEM_WIDTH = 80
DIGEST_SHOWN = 15


def message_lines(delivery: Delivery, today: date, titles: dict[str, str],
                  calendar: WorkdayCalendar | None = None) -> list[Line]:
    """Title line, then reminders by urgency, change notices, and the digest last. An item that two
    subscriptions of the destination both follow is listed once. A day the calendar does not know
    (no holiday data for its year) is said so at the end."""
    lines = [Line(f"{TITLE}（{today.isoformat()}）", strong=True)]
    if any(n.resent for n in delivery.notices):
        lines.append(Line("（上次发送未确认，如已收到请忽略）"))
    reminded = {n.item.id for n in delivery.notices if n.item and n.kind in ("lead", "overdue")}
    seen: set[tuple] = set()
    order = {"overdue": 0, "lead": 1, "moved": 2, "new": 3, "digest": 4}
    for notice in sorted(delivery.notices, key=lambda n: (order[n.kind], n.due or date.max)):
        ident = (notice.kind, notice.item.id if notice.item else None, notice.due)
        if ident in seen:
            continue
        seen.add(ident)
        lines += _notice_lines(notice, today, titles, reminded)
    note = calendar_note(calendar, today) if calendar is not None else ""
    if note:
        lines.append(Line(note))
    return lines


def _notice_lines(notice: Notice, today: date, titles: dict[str, str], reminded: set[int | None]) -> list[Line]:
    if notice.kind == "digest":  # lead_days holds the digest's span; items reminded above are not repeated
        shown = [i for i in notice.items if i.id not in reminded]
        if not shown:
            return []
        lines = [Line(f"本周待办（未来{notice.lead_days}天内到期）：{len(shown)} 项", strong=True)]
        lines += [Line(f"{n}. {_headline(i, today)}") for n, i in enumerate(shown[:DIGEST_SHOWN], 1)]
        if len(shown) > DIGEST_SHOWN:
            lines.append(Line(f"…另有 {len(shown) - DIGEST_SHOWN} 项，发送 /deadlines 查看"))
        return lines
    item = notice.item
    assert item is not None
    head = {
        "lead": "⏰ ",
        "overdue": "⚠️ 已逾期：",
        "moved": "📌 期限调整：",
        "new": "🆕 新增相关条目：",
    }[notice.kind]
    lines = [Line(f"{head}{_headline(item, today, notice)}", strong=True)]
    if notice.kind == "moved":
        before = notice.previous_due.isoformat() if notice.previous_due else "未定"
        after = "已标记完成" if item.progress == "done" else (notice.due.isoformat() if notice.due else "未定")
        lines.append(Line(f"截止日期：{before} → {after}"))
    source = titles.get(item.doc_id, "")
    lines.append(Line(f"来源：《{source}》" + (f" › {item.section}" if item.section else "") + f"（#{item.id}）"
                      if source else f"编号：#{item.id}"))
    return lines


def _headline(item: Item, today: date, notice: Notice | None = None) -> str:
    """设立碳减排支持工具 — 还剩7天（6月底前出台相关政策，2026-06-30；人民银行牵头）"""
    due = notice.due if notice and notice.due else next((d.due for d in item.deadlines if d.due and d.due >= today),
                                                        item.deadline.due if item.deadline else None)
    deadline = next((d for d in item.deadlines if d.due == due), item.deadline)
    text = clip(item.text.rstrip("。；;"), ITEM_WIDTH)
    status = ""
    if due is not None:
        days = (due - today).days
        status = f"还剩{days}天" if days > 0 else "今天到期" if days == 0 else f"已逾期{-days}天"
    detail = [f"{deadline.text}，{due.isoformat()}" if deadline and due else ""]
    if item.departments.lead:
        detail.append("、".join(item.departments.lead[:3]) + "牵头")
    elif item.departments.responsible:
        detail.append("负责：" + "、".join(item.departments.responsible[:3]))
    elif item.departments.support:
        detail.append("参与：" + "、".join(item.departments.support[:3]))
    inner = "；".join(d for d in detail if d)
    return f"{text} — {status}" + (f"（{inner}）" if inner else "")
