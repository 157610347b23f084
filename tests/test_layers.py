"""The apps stand in layers (issue 15): an app imports only apps below it, never above, so no two
apps import each other. Imports inside functions count as much as those at the top of a module.

    core  <-  towns  <-  visits  <-  funds  <-  reports  <-  demo        (config may import anything)
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["core", "towns", "visits", "funds", "reports", "demo"]
RANK = {app: rank for rank, app in enumerate(LAYERS)}


def _modules(app):
    for path in sorted((ROOT / app).rglob("*.py")):
        if "migrations" not in path.parts:
            yield path


def _imported_apps(path):
    """Every app a module imports, at the top or inside a function (relative imports stay in the app)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            yield name.split(".")[0], node.lineno


def _upward_imports():
    found = {}
    for app in LAYERS:
        if not (ROOT / app).is_dir():
            continue
        for path in _modules(app):
            for target, line in _imported_apps(path):
                if target in RANK and RANK[target] > RANK[app]:
                    found.setdefault((str(path.relative_to(ROOT)), target), line)
    return found


def test_core_imports_no_domain_app():
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in _modules("core")
        for target, line in _imported_apps(path)
        if target in RANK and target != "core"
    ]
    assert wrong == [], "core stands under every app and imports none: register with core instead\n" + "\n".join(wrong)


def test_no_app_imports_an_app_above_it():
    found = _upward_imports()
    wrong = [f"{path}:{line} imports {target}" for (path, target), line in sorted(found.items())]
    assert wrong == [], "an app may import only the apps below it (" + " <- ".join(LAYERS) + ")\n" + "\n".join(wrong)


def _imports_inside_functions(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for function in ast.walk(tree):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    yield node.module.split(".")[0], node.lineno
                elif isinstance(node, ast.Import):
                    yield from ((alias.name.split(".")[0], node.lineno) for alias in node.names)


def test_imports_across_apps_sit_at_the_top_of_modules():
    """A cross-app import tucked in a function hides a dependency; the one place for it is an
    AppConfig.ready(), which runs once the app registry is loaded (and says so)."""
    hidden = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for app in LAYERS
        if (ROOT / app).is_dir()
        for path in _modules(app)
        if path.name != "apps.py"
        for target, line in _imports_inside_functions(path)
        if target in RANK and target != app
    ]
    assert hidden == [], "move these imports to the top of the module:\n" + "\n".join(hidden)
