"""The apps stand in layers (issue 15): an app imports only apps below it, never above, so no two
apps import each other. Imports inside functions count as much as those at the top of a module.

    core  <-  towns  <-  visits  <-  funds  <-  reports  <-  demo        (config may import anything)
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["core", "towns", "visits", "funds", "reports", "demo"]
RANK = {app: rank for rank, app in enumerate(LAYERS)}

# (module, app it may still import) for the upward imports being removed in parallel with the core
# move; the lead empties this list once those branches are merged. Nothing may be added to it.
ALLOWED = {
    # The visit log hands out grants: it moves up to funds (the funds helper).
    ("visits/services.py", "funds"),
    ("visits/log_selectors.py", "funds"),
    ("visits/forms.py", "funds"),
}


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
    wrong = [f"{path}:{line} imports {target}" for (path, target), line in sorted(found.items()) if (path, target) not in ALLOWED]
    assert wrong == [], "an app may import only the apps below it (" + " <- ".join(LAYERS) + ")\n" + "\n".join(wrong)


def test_the_allow_list_holds_only_imports_that_are_still_there():
    stale = sorted(ALLOWED - set(_upward_imports()))
    assert stale == [], f"these upward imports are gone: remove them from ALLOWED in tests/test_layers.py: {stale}"
