"""The `policybot` command: import, ask, export, chat, run, reminders, subscriptions, doctor."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date, datetime
from pathlib import Path

from bot.cli_parser import ChineseArgumentParser, int_in, iso_date, iso_datetime
from bot.config import Config, ConfigError, load_config
from bot.failures import explain
from knowledge.answer import Answer, answer_json, render_text
from knowledge.base import KnowledgeBase, SkippedFile, rows_to_csv, rows_to_jsonl, write_xlsx
from knowledge.dialogue import Context, converse
from knowledge.regions import canonical_region

MAX_K = 100
MAX_PREVIEW_DAYS = 366


def _global_options(parser: argparse.ArgumentParser, *, in_subcommand: bool) -> None:
    """--config and --debug, accepted before or after the subcommand. In a subcommand they default to
    SUPPRESS so that an option given before the subcommand is not overwritten by the subcommand's default."""
    config_default: object = argparse.SUPPRESS if in_subcommand else None
    debug_default: object = argparse.SUPPRESS if in_subcommand else False
    parser.add_argument("--config", metavar="FILE", default=config_default,
                        help="配置文件（默认 $POLICYBOT_CONFIG 或 ./config.toml）")
    parser.add_argument("--debug", action="store_true", default=debug_default, help="出错时显示完整的 traceback")


def build_parser() -> argparse.ArgumentParser:
    common = ChineseArgumentParser(add_help=False)
    _global_options(common, in_subcommand=True)
    parser = ChineseArgumentParser(prog="policybot", description="PolicyBot：政策任务、目标、期限问答与提醒")
    _global_options(parser, in_subcommand=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令", title="命令")

    p = sub.add_parser("import", parents=[common], help="导入政策文件（文件或目录）")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH_OR_DIR")
    p.add_argument("--title", help="文件标题")
    p.add_argument("--date", type=iso_date, help="成文日期 YYYY-MM-DD（用于补全“6月底前”等期限的年份）")
    p.add_argument("--region", help="地区，例如 国家、内蒙古、浙江省")
    p.add_argument("--issuer", help="发文机关")
    p.add_argument("--doc-number", help="文号，例如 国发〔2021〕6号")

    p = sub.add_parser("ask", parents=[common], help="提问；不给问题时从标准输入逐行读取")
    p.add_argument("question", nargs="*", metavar="问题", help="要问的问题（不写则从标准输入逐行读取）")
    p.add_argument("--json", action="store_true", help="每个问题输出一行 JSON")
    p.add_argument("-k", type=int_in(1, MAX_K), default=None, metavar="N", help=f"返回的条目数，1–{MAX_K}（默认取配置 top_k）")
    p.add_argument("--today", type=iso_date, metavar="YYYY-MM-DD", help="把“今天”固定为这一天")

    p = sub.add_parser("export", parents=[common], help="导出全部条目（JSONL、Excel 可直接打开的 CSV 或 xlsx）")
    p.add_argument("--format", choices=("jsonl", "csv", "xlsx"), default="jsonl")
    p.add_argument("--output", "-o", type=Path, help="输出文件（默认标准输出；xlsx 必须指定）")
    p.add_argument("--today", type=iso_date)

    p = sub.add_parser("chat", parents=[common], help="在终端里和机器人对话")
    p.add_argument("--today", type=iso_date)

    sub.add_parser("run", parents=[common], help="启动 Telegram 机器人（长轮询）")

    p = sub.add_parser("reminders", parents=[common], help="截止提醒：预览或立即发送")
    p.add_argument("action", choices=("preview", "send"))
    p.add_argument("--now", type=iso_datetime,
                   help="把“现在”固定为这一时刻（ISO，如 2026-06-23T09:00；默认当前时间）")
    p.add_argument("--days", type=int_in(1, MAX_PREVIEW_DAYS), default=7,
                   help=f"preview：预览多少个每日提醒时段，1–{MAX_PREVIEW_DAYS}（默认 7）")

    p = sub.add_parser("subscriptions", parents=[common], help="管理提醒订阅（群聊、机器人）")
    actions = p.add_subparsers(dest="action", required=True, metavar="操作", title="操作")
    a = actions.add_parser("list", parents=[common], help="列出订阅")
    a.add_argument("--all", action="store_true", help="也列出已停用的订阅")
    a = actions.add_parser("add", parents=[common], help="添加订阅，规则同 /subscribe")
    a.add_argument("filter", nargs="*", metavar="条件",
                   help="部门=… 地区=… 关键词，或 webhook=<机器人网址> [secret=<密钥>]；不写条件即全部截止事项")
    a.add_argument("--chat", type=int, metavar="CHAT_ID", help="发往的 Telegram 聊天 id（群聊为负数）")
    a = actions.add_parser("remove", parents=[common], help="停用订阅")
    a.add_argument("ids", nargs="+", type=int_in(1, 2**63 - 1), metavar="编号")

    sub.add_parser("doctor", parents=[common], help="检查配置、数据库、订阅和提醒（运维先看这里）")
    return parser


def today_in(config: Config) -> date:
    return datetime.now(config.tz).date()


def open_knowledge_base(config: Config) -> KnowledgeBase:
    return KnowledgeBase.open(config.storage.path, seed=config.knowledge.seed_bundled)


def cmd_import(args: argparse.Namespace, config: Config) -> int:
    from knowledge.importer import DocumentOverrides  # the importer only where documents are imported

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
    failures = skipped = 0
    try:
        for path, result in kb.import_paths(args.paths, overrides):
            if isinstance(result, SkippedFile):
                skipped += 1
                print(f"{path}: 跳过 — {result.reason}", file=sys.stderr)
            elif isinstance(result, Exception):
                failures += 1
                print(f"{path}: 未导入 — {result}", file=sys.stderr)
            else:
                print(f"{path}: {result.summary()}")
                doc = kb.store.get_document(result.doc_id)
                if doc is not None and doc.date is None:
                    print(f"{path}: 注意 — 文件里没有成文日期，“6月底前”这类期限定不了年份（回答会说“日期未定”）；"
                          "可用 --date YYYY-MM-DD 指定后重新导入", file=sys.stderr)
    finally:
        kb.close()
    if skipped:
        print(f"跳过 {skipped} 个文件（见上）", file=sys.stderr)
    return 1 if failures else 0


def answer_line(kb: KnowledgeBase, line: str, today: date, k: int) -> Answer:
    """A plain line is a question of its own; a JSON object {"question": …, "context": [earlier turns…]}
    is the last turn of that conversation, its earlier turns replayed first."""
    question, earlier = line, []
    if line.lstrip().startswith("{"):
        try:
            turn = json.loads(line)
        except ValueError:
            turn = None
        if isinstance(turn, dict) and isinstance(turn.get("question"), str):
            question = turn["question"]
            earlier = [t for t in turn.get("context") or [] if isinstance(t, str)]
    context = Context()
    for text in earlier:
        converse(kb, context, text, today, k)
    return converse(kb, context, question, today, k)[0]


def cmd_ask(args: argparse.Namespace, config: Config) -> int:
    k = args.k or config.answers.top_k
    today = args.today or today_in(config)
    kb = open_knowledge_base(config)
    try:
        questions = [" ".join(args.question)] if args.question else (line.rstrip("\n") for line in sys.stdin)
        for question in questions:
            if not question.strip():  # a blank line: nothing to answer (--json keeps one line per input line)
                if args.json:
                    sys.stdout.write(json.dumps({"question": question, "answer": "请输入问题。", "confident": False,
                                                 "mode": "empty", "results": []}, ensure_ascii=False) + "\n")
                    sys.stdout.flush()
                continue
            answer = answer_line(kb, question, today, k)
            if args.json:
                sys.stdout.write(json.dumps(answer_json(answer, k), ensure_ascii=False) + "\n")
            else:
                sys.stdout.write(render_text(answer) + "\n\n")
            sys.stdout.flush()
    finally:
        kb.close()
    return 0


def cmd_export(args: argparse.Namespace, config: Config) -> int:
    if args.format == "xlsx" and args.output is None:
        print("xlsx 须写到文件：加 -o 文件名.xlsx", file=sys.stderr)
        return 2
    today = args.today or today_in(config)
    kb = open_knowledge_base(config)
    try:
        rows = kb.export_rows(today)
        if args.format == "xlsx":
            with args.output.open("wb") as f:
                write_xlsx(rows, f)
            return 0
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

    from bot.app import NothingToRun, serve

    try:
        asyncio.run(serve(config))
    except NothingToRun as e:
        print(str(e), file=sys.stderr)
        return e.exit_code
    except ValueError as e:  # a [[reminders.webhooks]] filter that names an unknown department or region
        print(f"配置错误：{e}", file=sys.stderr)
        return 2
    return 0


def cmd_reminders(args: argparse.Namespace, config: Config) -> int:
    import asyncio

    from bot import reminders_cli

    now = reminders_cli.in_zone(args.now, config)
    if args.action == "preview":
        return asyncio.run(reminders_cli.preview(config, now, args.days))
    return asyncio.run(reminders_cli.send(config, now))


def cmd_subscriptions(args: argparse.Namespace, config: Config) -> int:
    from bot import subscriptions_cli

    return subscriptions_cli.run(args, config)


def cmd_doctor(args: argparse.Namespace, config: Config) -> int:
    from bot import doctor

    return doctor.run(config)


COMMANDS = {"import": cmd_import, "ask": cmd_ask, "export": cmd_export, "chat": cmd_chat, "run": cmd_run,
            "reminders": cmd_reminders, "subscriptions": cmd_subscriptions, "doctor": cmd_doctor}


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
    except Exception as e:  # one line with the fix; the traceback only when asked for
        if args.debug:
            raise
        print(explain(e, config.storage.path), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
