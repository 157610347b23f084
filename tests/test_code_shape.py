"""The shape issue 15 set for the code, kept from growing back: modules of one job (≤ 600 lines),
thin views (≤ 40 lines), and no two modules importing each other."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "towns", "visits", "funds", "reports", "demo", "config", "bench", "tests")
MAX_MODULE_LINES = 600
MAX_VIEW_LINES = 40


def _modules():
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def test_no_module_is_over_600_lines():
    long = [f"{p.relative_to(ROOT)}: {n}" for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES]
    assert not long, "split these by job:\n" + "\n".join(long)


def _is_view_module(path: Path) -> bool:
    return "views" in path.parts or path.stem.endswith("views")


def test_no_view_is_over_40_lines():
    long = []
    for path in _modules():
        if not _is_view_module(path) or path.parts[len(ROOT.parts)] in ("tests", "bench"):
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_VIEW_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {lines}")
    assert not long, "views parse, call one service or selector, render:\n" + "\n".join(long)


def _imports(path: Path, known: set[str]) -> set[str]:
    """The project modules a module imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            if name in known:
                found.add(name)
    return found


def test_no_two_modules_import_each_other():
    paths = {_dotted(p): p for p in _modules()}
    known = set(paths)
    graph = {name: _imports(path, known) - {name} for name, path in paths.items()}
    pairs = sorted(
        f"{a} <-> {b}"
        for a, targets in graph.items()
        for b in targets
        if a < b and a in graph.get(b, ()) and not (a.startswith(b + ".") or b.startswith(a + "."))
    )
    assert not pairs, "tasks import services, services queue by name:\n" + "\n".join(pairs)


@pytest.mark.parametrize("rule", [test_no_module_is_over_600_lines, test_no_view_is_over_40_lines])
def test_the_rules_can_fail(rule, monkeypatch):
    """Each rule above fails on a breach (a limit of 1 line trips on any real module)."""
    monkeypatch.setattr(f"{__name__}.MAX_MODULE_LINES", 1)
    monkeypatch.setattr(f"{__name__}.MAX_VIEW_LINES", 1)
    with pytest.raises(AssertionError):
        rule()
