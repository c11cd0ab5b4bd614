"""An iCalendar (RFC 5545) file of deadlines: one all-day event per item and due date, with an alarm
a week before. Pure: items in, text out. Calendar apps update events in place by their stable UID."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from knowledge.models import Item

PRODID = "-//PolicyBot//Policy deadlines//ZH"


def escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def fold(line: str) -> list[str]:
    """Content lines of at most 75 octets, continuation lines starting with a space (never splitting a character)."""
    out: list[str] = []
    current, size = "", 0
    for ch in line:
        n = len(ch.encode())
        if size + n > (75 if not out else 74):
            out.append(current)
            current, size = "", 0
        current += ch
        size += n
    out.append(current)
    return [out[0], *(" " + part for part in out[1:])]


def calendar(entries: Iterable[tuple[Item, date, str]], name: str, stamp: datetime | None = None) -> str:
    """(item, due date, source title) -> a VCALENDAR document with CRLF line ends."""
    stamp_text = (stamp or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{escape(name)}", "X-WR-TIMEZONE:Asia/Shanghai"]
    for item, due, title in entries:
        deadline = next((d for d in item.deadlines if d.due == due), None)
        who = "；".join(f"{role}：" + "、".join(names) for role, names in (
            ("牵头", item.departments.lead), ("负责", item.departments.responsible), ("参与", item.departments.support))
            if names)
        description = "\n".join(x for x in (item.text, f"期限：{deadline.text}" if deadline else "", who,
                                            f"来源：《{title}》 {item.section}".strip() if title else "",
                                            f"编号：#{item.id}") if x)
        summary = item.text if len(item.text) <= 60 else item.text[:59] + "…"
        lines += [
            "BEGIN:VEVENT",
            f"UID:item-{item.id}-{due.isoformat()}@policybot",
            f"DTSTAMP:{stamp_text}",
            f"DTSTART;VALUE=DATE:{due.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(due + timedelta(days=1)).strftime('%Y%m%d')}",
            f"SUMMARY:{escape(summary)}",
            f"DESCRIPTION:{escape(description)}",
            "TRANSP:TRANSPARENT",
            "BEGIN:VALARM", "ACTION:DISPLAY", f"DESCRIPTION:{escape(summary)}", "TRIGGER:-P7D", "END:VALARM",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in fold(line))
