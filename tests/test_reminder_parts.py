"""Pure parts of reminders: /subscribe arguments, robot signatures and payloads, Feishu's quiet
seconds, the iCalendar file, the [reminders] config, and `policybot reminders preview`."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import date, datetime
from urllib.parse import parse_qs, urlparse

import pytest
from reminder_fixtures import TZ, make_item, store_with_items

from bot.cli import main
from bot.config import ConfigError, parse_config
from knowledge.answer import Line
from reminders import ics
from reminders.channels import detect_channel, dingtalk_signed_url, feishu_delay, feishu_sign, robot_payload
from reminders.filters import FilterError, parse_subscribe
from reminders.models import SubscriptionFilter
from reminders.store import ReminderStore

KNOWN = {"发展改革委": "发展改革委", "国家能源局": "能源局", "能源局": "能源局", "自治区能源局": "能源局",
         "人民银行": "人民银行", "生态环境部": "生态环境部"}


@pytest.mark.parametrize(("text", "exact", "cores", "region", "keyword"), [
    ("", (), (), "", ""),
    ("部门=发改委", (), ("发展改革委",), "", ""),
    ("部门＝国家能源局 地区：内蒙古", ("国家能源局",), (), "内蒙古自治区", ""),
    ("dept=央行 清洁取暖", (), ("人民银行",), "", "清洁取暖"),
])
def test_subscribe_arguments(text, exact, cores, region, keyword):
    request = parse_subscribe(text, KNOWN)
    assert (request.filter.exact, request.filter.cores, request.filter.region, request.filter.keyword) == \
        (exact, cores, region, keyword)
    assert request.channel == "telegram"


@pytest.mark.parametrize(("text", "message"), [
    ("部门=外星局", "不认识部门"), ("地区=亚特兰蒂斯", "不认识地区"), ("部门=发改委 部门=央行", "只能写一次"),
    ("碳", "至少两个字"), ("webhook=https://example.com/hook", "企业微信、钉钉或飞书"),
    ("secret=abc", "只用于 webhook"), ("https://oapi.dingtalk.com/robot/send?access_token=x", "webhook=<网址>"),
])
def test_subscribe_arguments_refused(text, message):
    with pytest.raises(FilterError, match=message):
        parse_subscribe(text, KNOWN)


def test_robot_urls_are_recognised():
    assert detect_channel("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1") == "wecom"
    assert detect_channel("https://oapi.dingtalk.com/robot/send?access_token=1") == "dingtalk"
    assert detect_channel("https://open.feishu.cn/open-apis/bot/v2/hook/abc") == "feishu"
    assert detect_channel("https://example.com/") is None


def test_dingtalk_and_feishu_signatures_follow_their_documented_recipes():
    url = dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=T", "SEC1", 1700000000000)
    query = parse_qs(urlparse(url).query)
    digest = hmac.new(b"SEC1", b"1700000000000\nSEC1", hashlib.sha256).digest()
    assert query == {"access_token": ["T"], "timestamp": ["1700000000000"], "sign": [base64.b64encode(digest).decode()]}
    expected = base64.b64encode(hmac.new(b"1700000000\nSEC1", b"", hashlib.sha256).digest()).decode()
    assert feishu_sign("SEC1", 1700000000) == expected


@pytest.mark.parametrize(("hms", "wait"), [("09:00:00", 67), ("09:00:30", 37), ("09:05:00", 0), ("09:29:55", 72),
                                          ("09:30:10", 57), ("09:17:00", 0)])
def test_feishu_pushes_avoid_the_hour_and_half_hour(hms, wait):
    assert feishu_delay(datetime.fromisoformat(f"2026-06-23T{hms}")) == pytest.approx(wait)


def test_robot_payloads_fit_their_platforms():
    lines = [Line("政策截止提醒", strong=True)] + [Line("很长的条目" * 40)] * 60
    wecom = robot_payload("wecom", lines)["markdown"]["content"]
    assert len(wecom.encode()) <= 4096 and wecom.startswith("**政策截止提醒**") and wecom.endswith("…")
    assert robot_payload("dingtalk", lines)["markdown"]["title"] == "政策截止提醒"
    assert robot_payload("feishu", lines)["msg_type"] == "text"


def test_ics_escapes_folds_and_uses_stable_uids():
    item = make_item(7, due=date(2026, 6, 30), text="推进煤电改造, 含节能; 供热\\改造" + "三改联动" * 20)
    text = ics.calendar([(item, date(2026, 6, 30), "意见")], "日历", stamp=datetime(2026, 1, 1, tzinfo=TZ))
    lines = text.split("\r\n")
    assert text.endswith("END:VCALENDAR\r\n") and all(len(x.encode()) <= 75 for x in lines)
    assert "UID:item-7-2026-06-30@policybot" in lines and "DTEND;VALUE=DATE:20260701" in lines
    unfolded = text.replace("\r\n ", "")
    assert "DESCRIPTION:推进煤电改造\\, 含节能\\; 供热\\\\改造" in unfolded


def test_reminders_config_is_checked():
    config = parse_config({"reminders": {"send_at": "08:30", "lead_days": [1, 7], "digest_weekday": "friday",
                                         "holidays": ["2027-01-04"]}})
    settings = config.reminders.settings()
    assert settings.lead_days == (7, 1) and settings.digest_weekday == 4 and settings.send_at.hour == 8
    assert not config.reminders.calendar().is_workday(date(2027, 1, 4))
    for bad in ({"send_at": "9点"}, {"lead_days": []}, {"timezone": "Mars/Base"}, {"digest_weekday": "周一"},
                {"workdays": ["2027-13-01"]}, {"webhooks": [{"url": "x"}]}, {"webhooks": [{"secret": "s"}]}):
        with pytest.raises(ConfigError, match=r"\[reminders\]"):
            parse_config({"reminders": bad})


def test_cli_reminders_preview_and_bad_now(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[storage]\npath = "{tmp_path / "p.db"}"\n[knowledge]\nseed_bundled = false\n', encoding="utf-8")
    assert main(["reminders", "preview", "--config", str(cfg), "--now", "2026-06-23T09:00"]) == 0
    assert "没有任何订阅" in capsys.readouterr().out
    store = store_with_items(str(tmp_path / "p.db"), [make_item(due=date(2026, 6, 30))])
    ReminderStore(store.db).add(chat_id=-100, filter=SubscriptionFilter(), created_by="t",
                                created_at=datetime(2026, 1, 1, tzinfo=TZ))
    store.close()
    assert main(["reminders", "preview", "--config", str(cfg), "--now", "2026-06-22T10:00", "--days", "10"]) == 0
    out = capsys.readouterr().out
    assert "2026-06-23T09:00+08:00 → Telegram chat -100" in out and "还剩7天" in out and "今天到期" in out
    assert "已逾期" in out  # 7-01, the overdue notice
    with pytest.raises(SystemExit) as exc:
        main(["reminders", "preview", "--config", str(cfg), "--now", "明天"])
    assert exc.value.code == 2 and "不是有效时间" in capsys.readouterr().err


def test_config_example_documents_every_reminder_key_with_its_default():
    import tomllib
    from pathlib import Path

    from bot.config import RemindersConfig

    example = tomllib.loads((Path(__file__).parent.parent / "config.example.toml").read_text(encoding="utf-8"))
    assert parse_config(example).reminders == RemindersConfig()
    assert set(example["reminders"]) | {"webhooks"} == set(RemindersConfig.__dataclass_fields__)


async def test_scheduler_runs_at_start_and_at_the_daily_slot(monkeypatch):
    import asyncio
    from datetime import time, timedelta

    from reminders import schedule

    class Recorder:
        tz = TZ
        runs = 0

        async def run_due(self):
            self.runs += 1

    monkeypatch.setattr(schedule, "START_DELAY", timedelta(milliseconds=50))
    recorder = Recorder()
    scheduler = schedule.start_scheduler(recorder, time(9, 0), retry_minutes=10)  # type: ignore[arg-type]
    try:
        await asyncio.sleep(0.5)
        assert recorder.runs == 1  # the catch-up run right after start
        daily = scheduler.get_job("daily-slot")
        assert daily.next_run_time.hour == 9 and daily.next_run_time.minute == 0
        assert scheduler.get_job("catch-up").trigger.interval == timedelta(minutes=10)
    finally:
        scheduler.shutdown(wait=False)


def test_config_robots_become_subscriptions_and_leave_with_the_config(tmp_path):
    from reminders.service import sync_config_webhooks

    store = store_with_items(str(tmp_path / "w.db"), [])
    reminders = ReminderStore(store.db)
    wecom = {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1", "filter": "地区=内蒙古"}
    ding = {"url": "https://oapi.dingtalk.com/robot/send?access_token=2", "secret": "SEC", "filter": ""}
    sync_config_webhooks(reminders, [wecom, ding], KNOWN)
    sync_config_webhooks(reminders, [wecom, ding], KNOWN)  # a restart adds nothing
    assert sorted((s.channel, s.filter.region, s.secret) for s in reminders.active()) == \
        [("dingtalk", "", "SEC"), ("wecom", "内蒙古自治区", "")]
    sync_config_webhooks(reminders, [wecom], KNOWN)
    assert [s.channel for s in reminders.active()] == ["wecom"]
    with pytest.raises(ValueError, match="不认识地区"):
        sync_config_webhooks(reminders, [{"url": wecom["url"], "filter": "地区=火星"}], KNOWN)
    store.close()
