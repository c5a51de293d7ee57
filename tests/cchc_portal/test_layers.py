"""The apps depend one way: commitments (the organisation) ← procedures ←
scoring ← demo. A module never imports an app above its own, at the top or
inside a function; cchc_portal, which every app uses, imports none of them
but in its URLconf, which wires their pages together."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

BASE = Path(settings.BASE_DIR)
LAYERS = ["cchc_portal", "commitments", "procedures", "scoring", "demo"]
APPS = LAYERS[1:]
# What wires the apps together sits above them all.
WIRING = {"cchc_portal/urls.py"}


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return {name.split(".")[0] for name in names} & set(APPS)


def modules(package: str) -> list[Path]:
    return sorted(
        path
        for path in (BASE / package).rglob("*.py")
        if "migrations" not in path.parts
    )


@pytest.mark.parametrize("package", LAYERS)
def test_no_module_imports_an_app_above_its_own(package):
    allowed = set(APPS[: max(LAYERS.index(package), 0)])
    found = {
        str(path.relative_to(BASE)): sorted(imported_apps(path) - allowed)
        for path in modules(package)
        if str(path.relative_to(BASE)) not in WIRING
    }
    assert {path: apps for path, apps in found.items() if apps} == {}


def test_the_check_sees_function_level_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "def f():\n    from scoring import rules\n    import demo.cases\n"
    )
    assert imported_apps(module) == {"scoring", "demo"}


def test_every_app_is_a_layer():
    local = {
        app.split(".")[0]
        for app in settings.INSTALLED_APPS
        if (BASE / app.split(".")[0]).is_dir()
    }
    assert local == set(LAYERS)
