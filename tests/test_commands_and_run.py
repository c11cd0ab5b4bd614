"""The command table is the one source for /help, set_my_commands and the README; `policybot run` startup."""

from __future__ import annotations

import asyncio
import io
import os
import sys
from pathlib import Path

import pytest
from fake_telegram import FakeTelegram

from handlers.commands import COMMANDS, help_lines, public_commands, readme_table
from knowledge.documents import DocumentError
from knowledge.formats import file_text

ROOT = Path(__file__).resolve().parents[1]


def test_readme_command_table_is_the_command_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    between = readme.split("<!-- commands -->")[1].split("<!-- /commands -->")[0].strip()
    assert between == readme_table()


def test_help_lists_every_command():
    public = "\n".join(help_lines(is_admin=False))
    admin = "\n".join(help_lines(is_admin=True))
    for c in COMMANDS:
        assert (f"/{c.name}" in public) == (not c.admin)
        assert f"/{c.name}" in admin


def test_every_command_has_a_handler():
    from handlers.core import COMMAND_HANDLERS

    assert set(COMMAND_HANDLERS) == {c.name for c in COMMANDS}
    assert [c.name for c in public_commands()] == [c.name for c in COMMANDS if not c.admin]


def test_docx_and_pdf_text():
    import docx

    document = docx.Document()
    document.add_heading("关于推进充电设施建设的通知", level=1)
    document.add_paragraph("一、完成全省充电桩布局规划。（省能源局牵头，2027年6月底前完成）")
    buf = io.BytesIO()
    document.save(buf)
    text = file_text(buf.getvalue(), "notice.docx")
    assert "# 关于推进充电设施建设的通知" in text and "2027年6月底前完成" in text
    with pytest.raises(DocumentError):
        file_text(b"PK\x03\x04 not really a zip", "broken.docx")
    with pytest.raises(DocumentError):
        file_text(b"%PDF-1.4 garbage", "broken.pdf")
    with pytest.raises(DocumentError, match="不支持"):
        file_text(b"MZ....", "virus.exe")


def _run_env(tmp_path: Path, token: str | None, base_url: str = "") -> dict:
    config = tmp_path / "run.toml"
    lines = [f'[storage]\npath = "{tmp_path / "kb.db"}"', "[telegram]"]
    if base_url:
        lines.append(f'base_url = "{base_url}"')
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "POLICYBOT_CONFIG": str(config)}
    env.pop("POLICYBOT_TELEGRAM_TOKEN", None)
    if token:
        env["POLICYBOT_TELEGRAM_TOKEN"] = token
    return env


async def _run(env: dict) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, err.decode()


async def test_run_without_token_says_so_in_one_line(tmp_path):
    code, err = await _run(_run_env(tmp_path, None))
    assert code == 2 and "POLICYBOT_TELEGRAM_TOKEN" in err and "Traceback" not in err


async def test_run_with_rejected_token_says_so_in_one_line(tmp_path):
    fake = FakeTelegram(token="999:RIGHT")
    await fake.start()
    try:
        code, err = await _run(_run_env(tmp_path, "123:WRONG", fake.base_url))
    finally:
        await fake.close()
    assert code == 2 and "拒绝了这个 token" in err and "Traceback" not in err
