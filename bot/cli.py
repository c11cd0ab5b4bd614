"""The `policybot` command: import, ask, export, chat, run, reminders."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date, datetime
from pathlib import Path

from bot.config import Config, ConfigError, load_config
from knowledge.answer import answer_json, render_text
from knowledge.base import KnowledgeBase, rows_to_csv, rows_to_jsonl
from knowledge.importer import DocumentOverrides
from knowledge.regions import canonical_region


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是有效日期：{text!r}（格式 YYYY-MM-DD，例如 2021-03-26）") from None


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", help="配置文件（默认 $POLICYBOT_CONFIG 或 ./config.toml）")
    parser = argparse.ArgumentParser(prog="policybot", description="PolicyBot：政策任务、目标、期限问答与提醒")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("import", parents=[common], help="导入政策文件（文件或目录）")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH_OR_DIR")
    p.add_argument("--title", help="文件标题")
    p.add_argument("--date", type=_iso_date, help="成文日期 YYYY-MM-DD（用于补全“6月底前”等期限的年份）")
    p.add_argument("--region", help="地区，例如 国家、内蒙古、浙江省")
    p.add_argument("--issuer", help="发文机关")
    p.add_argument("--doc-number", help="文号，例如 国发〔2021〕6号")

    p = sub.add_parser("ask", parents=[common], help="提问；不给问题时从标准输入逐行读取")
    p.add_argument("question", nargs="*")
    p.add_argument("--json", action="store_true", help="每个问题输出一行 JSON")
    p.add_argument("-k", type=int, default=None, help="返回的条目数（默认取配置 top_k）")
    p.add_argument("--today", type=_iso_date, help="把“今天”固定为这一天（YYYY-MM-DD）")

    p = sub.add_parser("export", parents=[common], help="导出全部条目")
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    p.add_argument("--output", "-o", type=Path, help="输出文件（默认标准输出）")
    p.add_argument("--today", type=_iso_date)

    p = sub.add_parser("chat", parents=[common], help="在终端里和机器人对话")
    p.add_argument("--today", type=_iso_date)

    sub.add_parser("run", parents=[common], help="启动 Telegram 机器人（长轮询）")

    p = sub.add_parser("reminders", parents=[common], help="截止提醒：预览或立即发送")
    p.add_argument("action", choices=("preview", "send"))
    p.add_argument("--now", help="把“现在”固定为这一时刻（ISO，如 2026-06-23T09:00；默认当前时间）")
    p.add_argument("--days", type=int, default=7, help="preview：预览多少个每日提醒时段（默认 7）")
    return parser


def today_in(config: Config) -> date:
    return datetime.now(config.tz).date()


def open_knowledge_base(config: Config) -> KnowledgeBase:
    return KnowledgeBase.open(config.storage.path, seed=config.knowledge.seed_bundled)


def cmd_import(args: argparse.Namespace, config: Config) -> int:
    region = None
    if args.region:
        region = canonical_region(args.region)
        if region is None:
            print(f"不认识的地区：{args.region}（例如：国家、内蒙古自治区、浙江省）", file=sys.stderr)
            return 2
    overrides = DocumentOverrides(title=args.title, date=args.date, region=region, issuer=args.issuer,
                                  doc_number=args.doc_number)
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        print("找不到：" + "、".join(map(str, missing)), file=sys.stderr)
        return 2
    kb = open_knowledge_base(config)
    failures = 0
    try:
        for path, result in kb.import_paths(args.paths, overrides):
            if isinstance(result, Exception):
                failures += 1
                print(f"{path}: 未导入 — {result}", file=sys.stderr)
            else:
                print(f"{path}: {result.summary()}")
    finally:
        kb.close()
    return 1 if failures else 0


def cmd_ask(args: argparse.Namespace, config: Config) -> int:
    k = args.k or config.answers.top_k
    if k < 1:
        print("-k 必须至少为 1", file=sys.stderr)
        return 2
    today = args.today or today_in(config)
    kb = open_knowledge_base(config)
    try:
        questions = [" ".join(args.question)] if args.question else (line.rstrip("\n") for line in sys.stdin)
        for question in questions:
            answer = kb.ask(question, today, k)
            if args.json:
                sys.stdout.write(json.dumps(answer_json(answer, k), ensure_ascii=False) + "\n")
            else:
                sys.stdout.write(render_text(answer) + "\n\n")
            sys.stdout.flush()
    finally:
        kb.close()
    return 0


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    today = args.today or today_in(config)
    kb = open_knowledge_base(config)
    try:
        rows = kb.export_rows(today)
        lines = rows_to_csv(rows) if args.format == "csv" else rows_to_jsonl(rows)
        if args.output:
            with args.output.open("w", encoding="utf-8", newline="") as f:
                f.writelines(lines)
        else:
            sys.stdout.writelines(lines)
    finally:
        kb.close()
    return 0


def cmd_chat(args: argparse.Namespace, config: Config) -> int:
    from bot.console import run_console

    return run_console(config, today=args.today)


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    import asyncio

    from telegram.error import InvalidToken, NetworkError

    from bot.app import MissingToken, build_application, check_token

    try:
        app = build_application(config)
        asyncio.run(check_token(config))  # a bad token is one clear line, not a traceback from polling
        app.run_polling(allowed_updates=["message", "callback_query", "my_chat_member"])
    except MissingToken as e:
        print(str(e), file=sys.stderr)
        return 2
    except InvalidToken:
        print("Telegram 拒绝了这个 token：请检查 POLICYBOT_TELEGRAM_TOKEN 或 [telegram] token（向 @BotFather 获取）",
              file=sys.stderr)
        return 2
    except NetworkError as e:
        print(f"无法连接 Telegram Bot API：{e}", file=sys.stderr)
        return 1
    except ValueError as e:  # a [[reminders.webhooks]] filter that names an unknown department or region
        print(f"配置错误：{e}", file=sys.stderr)
        return 2
    return 0


def cmd_reminders(args: argparse.Namespace, config: Config) -> int:
    import asyncio

    from bot import reminders_cli

    try:
        now = reminders_cli.parse_now(args.now, config)
    except argparse.ArgumentTypeError as e:
        print(str(e), file=sys.stderr)
        return 2
    if not 1 <= args.days <= 366:
        print("--days 须在 1 到 366 之间", file=sys.stderr)
        return 2
    if args.action == "preview":
        return asyncio.run(reminders_cli.preview(config, now, args.days))
    return asyncio.run(reminders_cli.send(config, now))


COMMANDS = {"import": cmd_import, "ask": cmd_ask, "export": cmd_export, "chat": cmd_chat, "run": cmd_run,
            "reminders": cmd_reminders}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as e:
        print(f"配置错误：{e}", file=sys.stderr)
        return 2
    logging.basicConfig(level=config.logging.level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the bot token in URLs
    try:
        return COMMANDS[args.command](args, config)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
