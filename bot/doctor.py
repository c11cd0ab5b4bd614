"""`policybot doctor`: what an operator checks first — the config in force, the database, the knowledge
base, subscriptions per app, the next reminder slot and the holiday calendar — with any warning."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from bot.config import Config
from bot.failures import explain
from bot.reminders_cli import NOTHING_SUBSCRIBED, next_slot
from knowledge.store import KnowledgeStore
from reminders.calendar import last_known_year, warned_years
from reminders.models import CHANNEL_NAMES, TELEGRAM, Subscription
from reminders.store import ReminderStore


def _size(path: Path) -> str:
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def _config_line(config: Config) -> str:
    if config.source == "built-in defaults":
        return "配置文件：无（内置默认值；可复制 config.example.toml 为 config.toml，或用 --config / $POLICYBOT_CONFIG）"
    return f"配置文件：{Path(config.source).expanduser().resolve()}"


def run(config: Config, now: datetime | None = None) -> int:
    """Print the report; 1 when the database cannot be opened."""
    now = (now or datetime.now(config.reminders.tz)).astimezone(config.reminders.tz)
    path = Path(config.storage.path).expanduser()
    print(_config_line(config))
    warnings: list[str] = []
    subs: list[Subscription] = []
    warned: set[int] = set()
    if not path.exists():
        print(f"数据库：{path}（尚未创建：首次使用时创建"
              + ("，并导入内置的政策文件）" if config.knowledge.seed_bundled else "）"))
        print("文件：0 份；条目：0 条")
    else:
        try:
            store = KnowledgeStore(path)
            try:
                check = store.db.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise sqlite3.DatabaseError(f"database disk image is malformed: {check}")
                documents, items = len(store.documents()), store.count_items()
                subs = ReminderStore(store.db).active()
                warned = warned_years(store)
            finally:
                store.close()
        except (sqlite3.Error, OSError) as e:
            print(f"数据库：{path} — 无法打开：{explain(e, str(path))}")
            return 1
        print(f"数据库：{path}（{_size(path)}）")
        print(f"文件：{documents} 份；条目：{items} 条")
    print(_subscriptions_line(subs))
    if not subs:
        warnings.append(NOTHING_SUBSCRIBED)
    if any(s.channel == TELEGRAM for s in subs) and not config.telegram_token:
        warnings.append("有 Telegram 订阅但没有 token：设置 POLICYBOT_TELEGRAM_TOKEN 或 [telegram] token")
    r = config.reminders
    if r.enabled:
        slot = next_slot(now, r.settings().send_at)
        print(f"下一个提醒时段：{slot.strftime('%Y-%m-%d %H:%M')}（{r.timezone}）")
    else:
        print("下一个提醒时段：无（[reminders] enabled = false，机器人不按时发送；policybot reminders send 仍可用）")
    known = last_known_year()
    configured = sorted(r.calendar().configured_years)
    print(f"节假日数据：chinese-calendar 收录到 {known} 年"
          + (f"；配置补充了 {'、'.join(map(str, configured))} 年" if configured else ""))
    horizon = now.date() + timedelta(days=max(r.lead_days))
    missing = [y for y in range(now.year, horizon.year + 1) if y > known and y not in configured]
    if missing or warned:
        years = sorted(set(missing) | {y for y in warned if y not in configured})
        if years:
            warnings.append(f"{'、'.join(map(str, years))} 年没有节假日数据：这些年的提醒按周末推算；"
                            "国务院公布安排后升级 chinesecalendar，或在 [reminders] holidays / workdays 补充")
    for line in warnings or ["无"]:
        print(f"警告：{line}")
    return 0


def _subscriptions_line(subs: list[Subscription]) -> str:
    if not subs:
        return "订阅：无"
    counts = Counter(s.channel for s in subs)
    parts = [f"{CHANNEL_NAMES[c]} {n}" for c, n in sorted(counts.items(), key=lambda kv: list(CHANNEL_NAMES).index(kv[0]))]
    return f"订阅：{'、'.join(parts)}（共 {len(subs)} 个）"



