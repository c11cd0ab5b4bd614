"""The policybot command as users and the eval harness run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

QUESTION = "碳减排支持工具什么时候出台？谁牵头？"


@pytest.fixture
def config_file(db_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[storage]\npath = "{db_path}"\n', encoding="utf-8")
    return path


def run(argv, capsys, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        import io

        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_json_contract(config_file, capsys):
    code, out, _ = run(["ask", "--json", "-k", "3", "--today", "2026-11-21", "--config", str(config_file), QUESTION],
                       capsys)
    assert code == 0
    obj = json.loads(out)
    assert obj["question"] == QUESTION and obj["confident"] is True
    assert len(obj["results"]) == 3
    top = obj["results"][0]
    assert set(top) >= {"id", "text", "score", "kind", "deadline", "departments", "region", "targets", "source"}
    assert top["text"] == "实施金融支持绿色低碳发展专项政策，设立碳减排支持工具。"
    assert top["deadline"] == {"text": "6月底前出台相关政策", "due": "2021-06-30", "start": None,
                               "end": "2021-06-30", "ongoing": False, "status": "已过期"}
    assert top["departments"] == {"lead": ["人民银行"], "support": ["生态环境部"], "responsible": []}
    assert top["source"]["title"] == "国务院关于落实《政府工作报告》重点工作分工的意见"
    assert top["source"]["date"] == "2021-03-26"
    answer = obj["answer"]
    for fact in ("设立碳减排支持工具", "6月底前出台相关政策", "2021-06-30", "已过期", "人民银行", "生态环境部",
                 "国发〔2021〕6号"):
        assert fact in answer


def test_today_changes_the_status(config_file, capsys):
    _, out, _ = run(["ask", "--json", "--today", "2021-06-23", "--config", str(config_file), QUESTION], capsys)
    assert json.loads(out)["results"][0]["deadline"]["status"] == "还剩7天"


def test_ask_reads_stdin_one_json_line_per_question(config_file, capsys, monkeypatch):
    questions = ["内蒙古煤炭消费比重要降到多少", "", "医保报销比例是多少", "你好"]
    code, out, _ = run(["ask", "--json", "--config", str(config_file)], capsys, "\n".join(questions) + "\n",
                       monkeypatch)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 4
    objs = [json.loads(line) for line in lines]
    assert [o["question"] for o in objs] == questions
    assert "75%" in objs[0]["answer"] and objs[0]["confident"]
    assert not objs[2]["confident"]
    assert not objs[3]["confident"] and objs[3]["results"] == []


def test_ask_flushes_each_line(config_file):
    """The harness may wait for each answer before sending the next question."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "ask", "--json", "--config", str(config_file)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    try:
        for q in ("核电余热供暖", "CCUS"):
            proc.stdin.write(q + "\n")
            proc.stdin.flush()
            assert json.loads(proc.stdout.readline())["question"] == q
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_export_jsonl_and_csv(config_file, capsys, tmp_path):
    code, out, _ = run(["export", "--today", "2026-11-21", "--config", str(config_file)], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) > 300
    by_text = {r["text"]: r for r in rows}
    tool = by_text["实施金融支持绿色低碳发展专项政策，设立碳减排支持工具。"]
    assert (tool["due"], tool["lead"], tool["support"]) == ("2021-06-30", ["人民银行"], ["生态环境部"])
    heating = next(r for r in rows if "北方地区清洁取暖率达到70" in r["text"])
    assert heating["due"] == "2021-12-31" and heating["lead"] == [] and heating["responsible"][0] == "生态环境部"
    assert heating["responsible"][-1] == "中国气象局"
    reform = next(r for r in rows if r["text"].startswith("推进能源、交通、电信等基础性行业改革"))
    assert reform["deadline"] == "年内持续推进" and reform["end"] == "2021-12-31"
    coal = by_text["全区煤炭消费比重降至75%以下"]
    assert coal["due"] == "2025-12-31" and "自治区能源局" in coal["responsible"] and coal["targets"][0]["value"] == "75"
    oil = by_text["石油消费“十五五”时期进入峰值平台期。"]
    assert (oil["start"], oil["end"]) == ("2026-01-01", "2030-12-31")
    zhejiang = [r for r in rows if r["region"] == "浙江省"]
    assert zhejiang and all(r["date"] == "" for r in zhejiang)
    assert all(d["due"] is None or "十" in d["text"] or any(c.isdigit() for c in d["text"])
               for r in zhejiang for d in r["deadlines"])

    csv_path = tmp_path / "out.csv"
    code, _, _ = run(["export", "--format", "csv", "-o", str(csv_path), "--config", str(config_file)], capsys)
    text = csv_path.read_text(encoding="utf-8")
    assert code == 0 and text.startswith("\ufeff编号,条目,类型,期限（全部）,截止日期")
    assert "设立碳减排支持工具" in text


def test_import_reports_and_is_idempotent(config_file, capsys, tmp_path):
    doc = tmp_path / "notice.md"
    doc.write_text("# 关于推进充电设施建设的通知\n\n一、完成全省充电桩布局规划。（省能源局牵头，2027年6月底前完成）\n",
                   encoding="utf-8")
    code, out, _ = run(["import", str(doc), "--region", "浙江", "--config", str(config_file)], capsys)
    assert code == 0 and "新增 1 条" in out
    code, out, _ = run(["import", str(tmp_path), "--region", "浙江", "--config", str(config_file)], capsys)
    assert code == 0 and "没有变化" in out


def test_import_bad_input_is_a_clear_error(config_file, capsys, tmp_path):
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\x00\x01\x02" * 100)
    code, _, err = run(["import", str(junk), "--config", str(config_file)], capsys)
    assert code == 1 and "未导入" in err and "Traceback" not in err
    code, _, err = run(["import", str(tmp_path / "missing.txt"), "--config", str(config_file)], capsys)
    assert code == 2 and "找不到" in err
    code, _, err = run(["import", str(junk), "--region", "火星", "--config", str(config_file)], capsys)
    assert code == 2 and "不认识的地区" in err
    with pytest.raises(SystemExit):
        main(["import", str(junk), "--date", "2021-02-30"])
    assert "不是有效日期" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[storage]\npaht = 'x'\n", "不认识的键"),
        ("[storage]\npath = 3\n", "须是字符串"),
        ("[answers]\ntimezone = 'Mars/Base'\n", "不是已知的时区"),
        ("[nonsense]\n", "不认识的表"),
        ("not toml = = =", "不是有效的 TOML"),
    ],
)
def test_bad_config_stops_with_a_message(tmp_path, capsys, content, message):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    code, _, err = run(["ask", "--config", str(path), "x"], capsys)
    assert code == 2 and message in err


def test_config_from_environment(tmp_path, capsys, monkeypatch, db_path):
    path = tmp_path / "env.toml"
    path.write_text(f'[storage]\npath = "{db_path}"\n', encoding="utf-8")
    monkeypatch.setenv("POLICYBOT_CONFIG", str(path))
    code, out, _ = run(["ask", "--json", "核电余热供暖"], capsys)
    assert code == 0 and json.loads(out)["confident"]


def test_chat_console(config_file, capsys, monkeypatch):
    code, out, _ = run(["chat", "--config", str(config_file)], capsys,
                       "你好\n12月底前要完成哪些任务\n更多\n退出\n", monkeypatch)
    assert code == 0
    assert "PolicyBot" in out and "共找到" in out and "再见" in out


def test_chat_follow_up_reasks_for_another_region(config_file, capsys, monkeypatch):
    code, out, _ = run(["chat", "--config", str(config_file)], capsys,
                       "公交车里新能源车的比例目标\n那浙江呢？\n", monkeypatch)
    assert code == 0
    assert "80%" in out
    assert "按“浙江" in out


def test_ask_json_answers_a_json_line_as_the_last_turn_of_its_conversation(config_file, capsys, monkeypatch):
    lines = ['{"question": "谁负责？", "context": ["北方地区清洁取暖率要达到多少"]}',
             "谁负责？",  # a plain line is a conversation of its own
             '{"question": 7}']  # not a conversation: answered as the text it is
    code, out, _ = run(["ask", "--json", "--today", "2021-06-10", "--config", str(config_file)], capsys,
                       "\n".join(lines) + "\n", monkeypatch)
    follow_up, alone, odd = (json.loads(line) for line in out.splitlines())
    assert code == 0
    assert "清洁取暖率" in follow_up["results"][0]["text"] and "中国气象局" in follow_up["answer"]
    assert alone["mode"] == "not_found" and odd["question"] == '{"question": 7}'
