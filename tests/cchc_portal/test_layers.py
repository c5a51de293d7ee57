"""The apps depend one way: the organisation (commitments.organisation) ←
procedures ← commitments ← scoring ← demo. A module never imports a layer above
its own, at the top or inside a function; cchc_portal, which every app uses,
imports none of them but in its URLconf, which wires their pages together."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

BASE = Path(settings.BASE_DIR)
# Lowest first. A module belongs to the longest layer its dotted name starts with.
LAYERS = [
    "cchc_portal",
    "commitments.organisation",
    "procedures",
    "commitments",
    "scoring",
    "demo",
]
APPS = LAYERS[1:]
# What wires the apps together sits above them all.
WIRING = {"cchc_portal/urls.py"}


def layer_of(name: str) -> str | None:
    matching = [
        layer for layer in LAYERS if name == layer or name.startswith(layer + ".")
    ]
    return max(matching, key=len, default=None)


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            # "from commitments import organisation" names the layer below.
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {layer for name in names if (layer := layer_of(name)) in APPS}


def modules(package: str) -> list[Path]:
    """The modules of a layer, not those of a layer inside it."""
    return sorted(
        path
        for path in BASE.joinpath(*package.split(".")).rglob("*.py")
        if "migrations" not in path.parts and layer_of(_module_name(path)) == package
    )


@pytest.mark.parametrize("package", LAYERS)
def test_no_module_imports_an_app_above_its_own(package):
    allowed = set(APPS[: max(LAYERS.index(package), 0)])
    found = {
        str(path.relative_to(BASE)): sorted(imported_apps(path) - allowed - {package})
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


@pytest.mark.parametrize(
    ("source", "layers"),
    [
        ("from commitments.models import Commitment\n", {"commitments"}),
        (
            "from commitments.organisation.models import Unit\n",
            {"commitments.organisation"},
        ),
        (
            "from commitments import organisation\n",
            {"commitments", "commitments.organisation"},
        ),
        ("from commitments.organisation import access\n", {"commitments.organisation"}),
    ],
)
def test_the_organisation_is_a_layer_of_its_own(tmp_path, source, layers):
    module = tmp_path / "m.py"
    module.write_text(source)
    assert imported_apps(module) == layers


def test_every_module_of_the_organisation_is_checked():
    names = {path.name for path in modules("commitments.organisation")}
    assert {"models.py", "access.py"} <= names
    assert "rules.py" not in names
    assert "models.py" in {path.name for path in modules("commitments")}


def test_every_app_is_a_layer():
    local = {
        app.split(".")[0]
        for app in settings.INSTALLED_APPS
        if (BASE / app.split(".")[0]).is_dir()
    }
    assert local == {layer.split(".")[0] for layer in LAYERS}


# --- a view module is no library (issue 16) ------------------------------------------
# What two views share is read in a selector or formatted by a plain module;
# only a URLconf imports views. A name starting with "_" is its module's own.


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(BASE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    """A project module or package (not a class or function of one)."""
    if layer_of(name) is None:
        return False
    base = BASE.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _is_views(name: str) -> bool:
    last = name.split(".")[-1]
    return layer_of(name) is not None and (last == "views" or last.endswith("_views"))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module an import names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def borrowed(path: Path, name: str | None = None) -> list[str]:
    """What the module takes that is another module's own: a views module
    (unless it is a URLconf), or a private name, imported or read as
    ``module._name`` on an imported project module."""
    name = name or _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    urlconf = path.name == "urls.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[str] = []
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if _is_views(alias.name) and not urlconf:
                    found.append(f"{node.lineno}: import {alias.name}")
                if alias.asname and _is_module(alias.name):
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, package)
            if layer_of(module) is None:
                continue
            for alias in node.names:
                full = f"{module}.{alias.name}"
                if not urlconf and (
                    _is_views(module) or (_is_views(full) and _is_module(full))
                ):
                    found.append(f"{node.lineno}: from {module} import {alias.name}")
                if _private(alias.name):
                    found.append(f"{node.lineno}: from {module} import {alias.name}")
                if _is_module(full):
                    aliases[alias.asname or alias.name] = full
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and _private(node.attr)
        ):
            found.append(f"{node.lineno}: {aliases[node.value.id]}.{node.attr}")
    return sorted(set(found))


def test_no_module_borrows_a_view_or_another_modules_private_names():
    found = {
        str(path.relative_to(BASE)): borrowed(path)
        for package in LAYERS
        for path in modules(package)
    }
    assert {path: names for path, names in found.items() if names} == {}


@pytest.mark.parametrize(
    "source",
    [
        "from scoring.results.views import PROVISIONAL\n",
        "from scoring.results import views\n",
        "from scoring.results import views as pages\n",
        "import scoring.results.views\n",
        "from scoring.api import results_views\n",
        "from scoring.results.selectors import _explainable\n",
        "from scoring.results import selectors as s\ns._explainable(1, 2)\n",
        "def f():\n    from scoring.results import selectors\n    selectors._x\n",
        "from .views import results_year\n",
        "from . import _private_helper\n",
    ],
)
def test_the_guard_sees_a_borrowed_view_or_private_name(tmp_path, source):
    module = tmp_path / "m.py"
    module.write_text(source)
    assert borrowed(module, "scoring.results.m")


@pytest.mark.parametrize(
    ("filename", "source"),
    [
        # A URLconf wires views.
        ("urls.py", "from scoring.results import export_views, views\n"),
        # A model's _meta is Django's, not a module's private name.
        ("m.py", "from scoring.models import Result\nResult._meta\n"),
        ("m.py", "from scoring.results import selectors\nselectors.select\n"),
        ("m.py", "from django.db import models\nmodels._x\n"),
    ],
)
def test_the_guard_lets_public_reads_and_urlconfs_pass(tmp_path, filename, source):
    module = tmp_path / filename
    module.write_text(source)
    assert borrowed(module, "scoring.results.m") == []
