"""The first hour with PolicyBot (issue 16) and one-line start-up failures (issue 14): exports that open
in Excel, a Chinese CLI, holiday data warnings, doctor, subscriptions, preview, folder import."""

from __future__ import annotations

import csv
import io
import logging
import os
import re
import socket
import sqlite3
import subprocess
import sys
from dataclasses import fields
from datetime import date, datetime
from pathlib import Path

import pytest
from reminder_fixtures import TZ, at, make_item, make_subscription, store_with_items

from bot import config as config_module
from bot.cli import main
from bot.cli_parser import translate
from knowledge.base import KnowledgeBase
from knowledge.store import KnowledgeStore, StoreWorker
from reminders.calendar import WARNED_SETTING, WorkdayCalendar, last_known_year
from reminders.messages import message_lines
from reminders.models import Delivery, Notice, SubscriptionFilter
from reminders.planner import ReminderSettings
from reminders.service import ReminderService
from reminders.store import ReminderStore

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
UNKNOWN_YEAR = last_known_year() + 1


@pytest.fixture
def config_file(db_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\npath = "{db_path}"\n', encoding="utf-8")
    return path


def write_config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "custom.toml"
    path.write_text(body, encoding="utf-8")
    return path


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def parse_error(argv, capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    return capsys.readouterr().err


# ---------------------------------------------------------------- exports


def test_csv_opens_in_excel_with_every_deadline_and_departments_by_role(config_file, tmp_path, capsys):
    out = tmp_path / "items.csv"
    code, _, _ = run(["export", "--format", "csv", "-o", out, "--today", "2021-05-21", "--config", config_file], capsys)
    assert code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the byte-order mark
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    tool = next(r for r in rows if r["编号"] == "13")
    assert tool["期限（全部）"] == "6月底前出台相关政策（2021-06-30，还剩40天）；年内持续推进（2021-12-31，进行中，还剩224天）"
    assert tool["截止日期"] == "2021-06-30；2021-12-31"
    assert (tool["牵头部门"], tool["配合部门"], tool["类型"]) == ("人民银行", "生态环境部", "任务")
    heating = next(r for r in rows if "北方地区清洁取暖率达到70" in r["条目"])
    # the text names no lead (…等按职责分工负责): every department is responsible, none leads
    assert heating["牵头部门"] == "" and heating["负责部门"].startswith("生态环境部")
    assert heating["负责部门"].endswith("中国气象局")
    assert len(rows) > 300


def test_csv_to_stdout_and_jsonl_keep_every_deadline(config_file, capsys):
    code, out, _ = run(["export", "--format", "csv", "--config", config_file], capsys)
    assert code == 0 and out.startswith("\ufeff编号,条目")
    code, out, _ = run(["export", "--today", "2021-05-21", "--config", config_file], capsys)
    import json

    tool = next(json.loads(line) for line in out.splitlines() if json.loads(line)["id"] == 13)
    assert [d["text"] for d in tool["deadlines"]] == ["6月底前出台相关政策", "年内持续推进"]
    assert tool["deadlines"][1]["status"] == "进行中，还剩224天"


def test_xlsx_one_row_per_item_under_a_frozen_header(config_file, tmp_path, capsys, kb):
    from openpyxl import load_workbook

    out = tmp_path / "items.xlsx"
    code, _, _ = run(["export", "--format", "xlsx", "-o", out, "--today", "2021-05-21", "--config", config_file], capsys)
    assert code == 0
    sheet = load_workbook(out).active
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["编号", "条目", "类型", "期限（全部）"]
    assert sheet.max_row == 1 + kb.store.count_items()
    row13 = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == 13)
    assert "年内持续推进" in row13[3] and "6月底前出台相关政策" in row13[3]


def test_xlsx_needs_an_output_file(config_file, capsys):
    code, _, err = run(["export", "--format", "xlsx", "--config", config_file], capsys)
    assert code == 2 and "-o" in err


# ---------------------------------------------------------------- the CLI speaks Chinese


@pytest.mark.parametrize("k", ["0", "-3", "101", "abc"])
def test_out_of_range_k_is_refused_in_chinese(k, capsys):
    err = parse_error(["ask", "-k", k, "问题"], capsys)
    assert "须为 1 到 100 之间的整数" in err and "用法：" in err
    assert "usage" not in err and "error" not in err


@pytest.mark.parametrize(("argv", "expected"), [
    (["nonsense"], "无效的选择：'nonsense'"),
    ([], "缺少必需的参数：命令"),
    (["ask", "--today"], "参数 --today：需要一个值"),
    (["ask", "--bogus"], "无法识别的参数：--bogus"),
    (["reminders", "preview", "--days", "0"], "须为 1 到 366 之间的整数"),
    (["reminders", "preview", "--now", "tomorrow"], "不是有效时间"),
    (["export", "--format", "pdf"], "无效的选择：'pdf'"),
    (["subscriptions"], "缺少必需的参数：操作"),
])
def test_argparse_errors_are_chinese(argv, expected, capsys):
    err = parse_error(argv, capsys)
    assert expected in err and "policybot" in err and "错误：" in err
    assert not re.search(r"usage:|error:|invalid choice|required|expected one", err)


def test_help_is_chinese(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["ask", "--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0 and out.startswith("用法：") and "显示帮助并退出" in out and "选项" in out


def test_unknown_message_stays_as_it_is():
    assert translate("something new") == "something new"
    assert translate("argument -k: invalid int value: 'x'") == "参数 -k：无效的整数值：'x'"


@pytest.mark.parametrize("before", [True, False])
def test_global_options_before_or_after_the_subcommand(before, config_file, capsys):
    options = ["--config", str(config_file)]
    argv = [*options, "ask", "--json", "核电余热供暖"] if before else ["ask", "--json", "核电余热供暖", *options]
    code, out, _ = run(argv, capsys)
    assert code == 0 and '"confident": true' in out


def test_config_before_the_subcommand_is_not_overwritten(tmp_path, capsys):
    good = write_config(tmp_path, "[answers]\ntop_k = 0\n")
    code, _, err = run(["--config", good, "doctor"], capsys)  # the file before the subcommand is read
    assert code == 2 and "[answers] top_k 须在 1 到 100 之间" in err


# ---------------------------------------------------------------- one-line failures


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def store_config(tmp_path: Path, db: Path) -> Path:
    return write_config(tmp_path, f'[storage]\npath = "{db}"\n')


def test_corrupt_database_is_one_line(tmp_path, capsys):
    db = tmp_path / "kb.db"
    db.write_bytes(b"this is not sqlite at all" * 100)
    code, _, err = run(["ask", "--config", store_config(tmp_path, db), "问题"], capsys)
    line = one_line(err)
    assert code == 1 and "已损坏" in line and str(db) in line and "备份" in line


def test_truncated_database_is_one_line(seeded_db_file, tmp_path, capsys):
    db = tmp_path / "kb.db"
    db.write_bytes(seeded_db_file.read_bytes()[: seeded_db_file.stat().st_size // 3])
    code, _, err = run(["ask", "--config", store_config(tmp_path, db), "碳减排支持工具谁牵头"], capsys)
    assert code == 1 and "已损坏" in one_line(err)


def test_database_path_that_is_a_directory(tmp_path, capsys):
    db = tmp_path / "db_dir"
    db.mkdir()
    code, _, err = run(["ask", "--config", store_config(tmp_path, db), "问题"], capsys)
    line = one_line(err)
    assert code == 1 and "是一个目录" in line and "policybot.db" in line


def test_database_path_that_cannot_be_created(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    code, _, err = run(["ask", "--config", store_config(tmp_path, blocker / "sub" / "kb.db"), "问题"], capsys)
    assert code == 1 and str(blocker) in one_line(err)


def test_debug_shows_the_traceback(tmp_path, capsys):
    db = tmp_path / "kb.db"
    db.write_bytes(b"garbage" * 500)
    with pytest.raises(Exception, match="not a database"):
        main(["--debug", "ask", "--config", str(store_config(tmp_path, db)), "问题"])


@pytest.mark.parametrize(("body", "message"), [
    ('[logging]\nlevel = "VERBOSE"\n', "[logging] level 须是 DEBUG, INFO"),
    ("[telegram]\nmax_import_bytes = -1\n", "[telegram] max_import_bytes 须在 1024 到"),
    ("[telegram]\nimport_timeout_seconds = 0\n", "import_timeout_seconds 须在 1 到 600 之间"),
    ("[answers]\ntop_k = 1000\n", "[answers] top_k 须在 1 到 100 之间"),
    ("[reminders]\ncatch_up_days = -1\n", "catch_up_days 须在 0 到 60 之间"),
])
def test_bad_config_values_are_one_line(body, message, tmp_path, capsys):
    code, _, err = run(["doctor", "--config", write_config(tmp_path, body)], capsys)
    assert code == 2 and message in one_line(err)


def test_every_number_in_the_config_has_a_range():
    for table, cls in config_module._SECTIONS.items():
        for f in fields(cls):
            if isinstance(getattr(cls(), f.name), int) and not isinstance(getattr(cls(), f.name), bool):
                assert (table, f.name) in config_module.RANGES, f"[{table}] {f.name} has no range"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_reminders_send_with_the_network_down_is_one_line(db_path, tmp_path, capsys):
    path = write_config(tmp_path, f'[storage]\npath = "{db_path}"\n[telegram]\ntoken = "123:abc"\n'
                                  f'base_url = "http://127.0.0.1:{closed_port()}/bot"\n')
    code, _, err = run(["reminders", "send", "--config", path], capsys)
    line = one_line(err)
    assert code == 1 and "无法连接 Telegram Bot API" in line and "base_url" in line


def test_a_failure_in_a_real_process_is_one_line(tmp_path):
    db = tmp_path / "kb.db"
    db.write_bytes(b"garbage" * 500)
    proc = subprocess.run([sys.executable, "-m", "bot", "ask", "--config", str(store_config(tmp_path, db)), "问题"],
                          capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert proc.returncode == 1 and "已损坏" in one_line(proc.stderr)


# ---------------------------------------------------------------- holiday data


def service_for(path: Path) -> tuple[ReminderService, StoreWorker]:
    store = store_with_items(str(path), [make_item(due=date(UNKNOWN_YEAR, 6, 30))])
    kb = KnowledgeBase(store)
    ReminderStore(store.db).add(chat_id=-100, filter=SubscriptionFilter(), created_by="test",
                                created_at=datetime(2026, 1, 1, tzinfo=TZ))
    worker = StoreWorker()
    return ReminderService(kb, worker, ReminderSettings(), WorkdayCalendar(), TZ, {}), worker


async def warnings_of_a_run(path: Path, caplog) -> list[str]:
    service, worker = service_for(path)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="reminders.calendar"):
        await service.run_due(at(f"{UNKNOWN_YEAR}-06-23"))
    await worker.run(service.kb.close)
    worker.shutdown()
    return [r.getMessage() for r in caplog.records if "no holiday data" in r.getMessage()]


async def test_missing_holiday_data_is_warned_once_per_year_per_database(tmp_path, caplog):
    first = await warnings_of_a_run(tmp_path / "a.db", caplog)
    assert len(first) == 1 and str(UNKNOWN_YEAR) in first[0]
    assert await warnings_of_a_run(tmp_path / "a.db", caplog) == []  # the next run, a new process: remembered
    assert len(await warnings_of_a_run(tmp_path / "b.db", caplog)) == 1  # another database is told too
    store = KnowledgeStore(tmp_path / "a.db")
    assert store.get_setting(WARNED_SETTING) == str(UNKNOWN_YEAR)
    store.close()


def test_a_reminder_on_a_day_outside_the_calendar_says_so():
    item = make_item(due=date(UNKNOWN_YEAR, 1, 8))
    delivery = Delivery(make_subscription(), [Notice("k", "lead", 1, item, item.deadline.due, 7)])
    outside = [line.text for line in message_lines(delivery, date(UNKNOWN_YEAR, 1, 1), {}, WorkdayCalendar())]
    assert f"{UNKNOWN_YEAR}年的法定节假日安排尚未收录" in outside[-1]
    inside = [line.text for line in message_lines(delivery, date(2026, 6, 23), {}, WorkdayCalendar())]
    assert not any("尚未收录" in t for t in inside)
    configured = WorkdayCalendar(holidays=[date(UNKNOWN_YEAR, 1, 1)])
    assert not any("尚未收录" in line.text for line in message_lines(delivery, date(UNKNOWN_YEAR, 1, 2), {}, configured))


# ---------------------------------------------------------------- subscriptions, preview


def test_subscriptions_add_list_remove_round_trip(config_file, capsys):
    code, out, _ = run(["subscriptions", "add", "--chat", "-1001234567890", "部门=发改委", "地区=内蒙古",
                        "--config", config_file], capsys)
    assert code == 0 and out.startswith("已订阅：#1 Telegram chat -1001234567890  部门=发改委，地区=内蒙古")
    code, out, _ = run(["subscriptions", "add", "webhook=https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET",
                        "光伏", "--config", config_file], capsys)
    assert code == 0 and "企业微信机器人" in out and "SECRET" not in out
    code, out, _ = run(["--config", config_file, "subscriptions", "list"], capsys)
    assert code == 0 and [line[:2] for line in out.splitlines()] == ["#1", "#2"] and "SECRET" not in out
    code, out, _ = run(["subscriptions", "remove", "1", "--config", config_file], capsys)
    assert code == 0 and "已停用订阅 #1" in out
    code, out, _ = run(["subscriptions", "list", "--config", config_file], capsys)
    assert out.splitlines()[0].startswith("#2")
    code, out, _ = run(["subscriptions", "list", "--all", "--config", config_file], capsys)
    assert "已停用：removed by operator" in out
    code, _, err = run(["subscriptions", "remove", "1", "--config", config_file], capsys)
    assert code == 1 and "#1" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["--chat", "-100", "部门=火星局"], "不认识部门"),
    (["--chat", "-100", "地区=火星"], "不认识地区"),
    (["光伏"], "--chat"),
    (["webhook=https://example.com/hook"], "企业微信、钉钉或飞书"),
])
def test_subscriptions_add_shares_the_rules_of_subscribe(argv, message, config_file, capsys):
    code, _, err = run(["subscriptions", "add", *argv, "--config", config_file], capsys)
    assert code == 2 and message in err


def test_preview_with_nothing_subscribed_says_why(config_file, capsys):
    code, out, _ = run(["reminders", "preview", "--config", config_file], capsys)
    assert code == 0 and "没有任何订阅" in out and "/subscribe" in out


def test_preview_before_the_slot_shows_that_days_slot(config_file, tmp_path, capsys):
    doc = tmp_path / "notice.md"
    doc.write_text("# 关于推进充电设施建设的通知\n\n一、完成全省充电桩布局规划。（省能源局牵头，2027年6月底前完成）\n",
                   encoding="utf-8")
    assert run(["import", doc, "--region", "浙江", "--date", "2026-11-01", "--config", config_file], capsys)[0] == 0
    assert run(["subscriptions", "add", "--chat", "-100", "充电桩", "--config", config_file], capsys)[0] == 0
    code, out, _ = run(["reminders", "preview", "--days", "1", "--now", "2027-06-23T08:00", "--config", config_file],
                       capsys)
    assert code == 0 and out.startswith("== 2027-06-23T09:00+08:00 → Telegram chat -100")
    assert "完成全省充电桩布局规划 — 还剩7天" in out
    code, out, _ = run(["reminders", "preview", "--days", "1", "--now", "2027-06-23T09:30", "--config", config_file],
                       capsys)
    assert code == 0 and out.startswith("== 2027-06-24T09:00+08:00")  # after 09:00: the next day's slot


def test_the_readme_reminder_example_is_what_the_bot_sends(config_file, capsys):
    block = re.search(r"<!-- reminder-example -->\n```\n(.*?)```", README, re.S)
    assert block, "README lost its reminder example"
    store = KnowledgeStore(config_file.parent / "kb.db")
    ReminderStore(store.db).add(chat_id=-1001234567890, filter=SubscriptionFilter(keyword="碳减排支持工具"),
                                created_by="test", created_at=datetime(2021, 6, 1, tzinfo=TZ))
    store.close()
    code, out, _ = run(["reminders", "preview", "--days", "1", "--now", "2021-06-23T08:00", "--config", config_file],
                       capsys)
    assert code == 0
    assert out.split("\n", 1)[1].strip() == block[1].strip()


# ---------------------------------------------------------------- folder import


def test_folder_import_reports_every_skipped_file_and_undated_documents(config_file, tmp_path, capsys):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0 word 97")
    (folder / "sheet.xlsx").write_bytes(b"PK")
    (folder / ".hidden.txt").write_text("x")
    (folder / "notice.md").write_text("# 关于推进充电设施建设的通知\n\n一、完成全省充电桩布局规划。（省能源局牵头，6月底前完成）\n",
                                      encoding="utf-8")
    code, out, err = run(["import", folder, "--region", "浙江", "--config", config_file], capsys)
    assert code == 0 and "已导入" in out
    assert f"{folder / 'old.doc'}: 跳过 — 不支持 .doc 格式：请另存为 .docx 或 PDF" in err
    assert f"{folder / 'sheet.xlsx'}: 跳过 — 不支持的文件类型 .xlsx" in err
    assert ".hidden" not in err and "跳过 2 个文件" in err
    assert f"{folder / 'notice.md'}: 注意 — 文件里没有成文日期" in err and "--date" in err
    code, _, err = run(["import", folder / "notice.md", "--date", "2026-03-01", "--region", "浙江",
                        "--config", config_file], capsys)
    assert code == 0 and "没有成文日期" not in err


# ---------------------------------------------------------------- doctor


def test_doctor_on_a_fresh_install(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLICYBOT_CONFIG", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    code, out, _ = run(["doctor"], capsys)
    lines = out.splitlines()
    assert code == 0
    assert [line.split("：")[0] for line in lines] == ["配置文件", "数据库", "文件", "订阅", "下一个提醒时段",
                                                       "节假日数据", "警告"]
    assert "内置默认值" in lines[0] and str(tmp_path / "data" / "policybot" / "policybot.db") in lines[1]
    assert "尚未创建" in lines[1] and lines[3] == "订阅：无"
    assert f"收录到 {last_known_year()} 年" in lines[5] and "没有任何订阅" in lines[6]
    assert not (tmp_path / "data").exists()  # doctor looks, it does not create


def test_doctor_on_a_working_install(config_file, db_path, capsys):
    run(["subscriptions", "add", "--chat", "-100", "--config", config_file], capsys)
    run(["subscriptions", "add", "webhook=https://oapi.dingtalk.com/robot/send?access_token=x", "--config", config_file],
        capsys)
    code, out, _ = run(["doctor", "--config", config_file], capsys)
    assert code == 0
    assert f"配置文件：{config_file}" in out and f"数据库：{db_path}（" in out
    assert re.search(r"文件：5 份；条目：\d{3} 条", out)
    assert "订阅：Telegram 1、钉钉 1（共 2 个）" in out
    assert re.search(r"下一个提醒时段：\d{4}-\d\d-\d\d 09:00（Asia/Shanghai）", out)
    assert "有 Telegram 订阅但没有 token" in out


def test_doctor_fails_when_the_database_cannot_be_opened(tmp_path, capsys):
    db = tmp_path / "kb.db"
    db.write_bytes(b"garbage" * 500)
    code, out, _ = run(["doctor", "--config", store_config(tmp_path, db)], capsys)
    assert code == 1 and "无法打开" in out and "已损坏" in out


def test_doctor_reports_a_remembered_calendar_warning(config_file, db_path, capsys):
    store = KnowledgeStore(db_path)
    with store.transaction():
        store.set_setting(WARNED_SETTING, str(UNKNOWN_YEAR))
    store.close()
    code, out, _ = run(["doctor", "--config", config_file], capsys)
    assert code == 0 and f"警告：{UNKNOWN_YEAR} 年没有节假日数据" in out


# ---------------------------------------------------------------- README


def test_readme_commands_table_lists_every_subcommand():
    from bot.cli import COMMANDS

    table = README.split("## Commands", 1)[1].split("##", 1)[0]
    for name in COMMANDS:
        assert f"`policybot {name}" in table, name
    assert "no reminder is sent until" in README.lower() or "不会发送" in README


def test_readme_doctor_sample_matches(tmp_path, capsys, monkeypatch):
    block = re.search(r"<!-- doctor-example -->\n```\n(.*?)```", README, re.S)
    assert block, "README lost its doctor example"
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("POLICYBOT_CONFIG", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", "/home/me/.local/share")
    monkeypatch.setattr("bot.doctor.last_known_year", lambda: 2026)
    from bot import doctor
    from bot.config import Config

    doctor.run(Config(), now=datetime(2026, 11, 30, 10, 0, tzinfo=TZ))
    out = capsys.readouterr().out
    assert "$ policybot doctor\n" + out == block[1]




def test_reminders_send_reports_in_chinese(config_file, capsys):
    run(["subscriptions", "add", "--chat", "-100", "--config", config_file], capsys)
    code, out, _ = run(["reminders", "send", "--now", "2021-06-23T09:00", "--config", config_file], capsys)
    assert code == 0 and out.startswith("已发送 0 条，稍后重试 0 条") and "无发送渠道" in out


async def test_run_with_a_corrupt_database_is_one_line(tmp_path):
    import asyncio

    from fake_telegram import FakeTelegram

    fake = FakeTelegram()
    await fake.start()
    db = tmp_path / "kb.db"
    db.write_bytes(b"garbage" * 500)
    config = write_config(tmp_path, f'[storage]\npath = "{db}"\n[telegram]\nbase_url = "{fake.base_url}"\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICYBOT_TELEGRAM_TOKEN": fake.token}
    try:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", "--config", str(config),
                                                    env=env, stdout=asyncio.subprocess.PIPE,
                                                    stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        await fake.close()
    assert proc.returncode == 1 and "已损坏" in one_line(err.decode())


def test_readme_describes_the_csv_as_it_is(config_file, tmp_path, capsys):
    from knowledge.base import CSV_COLUMNS

    out = tmp_path / "items.csv"
    run(["export", "--format", "csv", "-o", out, "--today", "2026-11-21", "--config", config_file], capsys)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    cell = next(r for r in rows if r["编号"] == "13")["期限（全部）"]
    assert f"`{cell}`" in README
    assert "Chinese column headers (" + ", ".join(h for _, h in CSV_COLUMNS) + ")" in README.replace("\n", " ")


@pytest.mark.parametrize(("exc", "expected"), [
    (sqlite3.OperationalError("attempt to write a readonly database"), "检查该文件和所在目录的权限"),
    (sqlite3.OperationalError("unable to open database file"), "检查该文件和所在目录的权限"),
    (sqlite3.OperationalError("database is locked"), "正被其他进程占用"),
    (PermissionError(13, "Permission denied", "/srv/kb.db"), "没有权限：/srv/kb.db"),
])
def test_unwritable_database_messages(exc, expected, tmp_path):
    # (the tests run as root, for whom no file is read-only: the messages are checked directly)
    from bot.failures import explain

    line = explain(exc, str(tmp_path / "kb.db"))
    assert expected in line and "\n" not in line
