"""The floors of the code: bot/ (adapters, composition root) → handlers/ → reminders/ → knowledge/.

Every import is read with `ast`, those inside functions too. A module may import its own floor and
the floors below it; handlers/, reminders/ and knowledge/ import no app SDK; no modules import each
other in a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOORS = {"bot": 3, "handlers": 2, "reminders": 1, "knowledge": 0}
APP_SDKS = {"telegram", "dingtalk_stream", "lark_oapi", "aibot", "wecom_aibot_sdk"}


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in FLOORS:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imports_of(path: Path, module: str, known: dict[str, Path]) -> set[str]:
    """Every module this file imports (top-level names for outside packages, full names for ours)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
    return found


def graph() -> dict[str, set[str]]:
    known = project_modules()
    return {name: imports_of(path, name, known) for name, path in known.items()}


def floor(module: str) -> int | None:
    return FLOORS.get(module.split(".")[0])


def test_imports_only_run_downward_and_no_app_sdk_below_bot():
    problems = []
    for module, imported in graph().items():
        for target in imported:
            top = target.split(".")[0]
            if floor(module) < 3 and top in APP_SDKS:
                problems.append(f"{module} imports the app SDK {target}")
            if floor(target) is not None and floor(target) > floor(module):
                problems.append(f"{module} imports {target}, a floor above it")
    assert not problems, "\n".join(sorted(problems))


def test_no_import_cycles():
    edges = {m: {t for t in ts if t in FLOORS or floor(t) is not None} for m, ts in graph().items()}
    cycles = []
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(edges.get(module, ())):
            if target == module or target not in edges:
                continue
            if state.get(target) == 1:
                cycles.append(" → ".join([*path[path.index(target):], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)


def test_the_checks_see_what_they_check(tmp_path):
    """The import reader finds imports inside functions and resolves our own modules."""
    known = project_modules()
    found = imports_of(ROOT / "handlers" / "commands.py", "handlers.commands", known)
    assert "handlers.texts" in found  # imported inside help_lines()
    assert "telegram" in imports_of(ROOT / "bot" / "telegram" / "adapter.py", "bot.telegram.adapter", known)
