"""The README's command-line examples run as printed, on a fresh clone.

A copy of the project's files (what a clone holds: no .env, no database)
with this test's virtualenv as its .venv, and an environment with nothing
the portal reads (no DEBUG, no SECRET_KEY, no DATABASE_URL): what a new user
has after `git clone` and `make install`. `make .env` is the step of
`make install` that writes the development settings; then every
`.venv/bin/python manage.py …` line of the README's sh blocks runs as it is
printed, on files named as the README names them."""

from __future__ import annotations

import csv
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.migrated import Migrated

ROOT = Path(__file__).resolve().parents[2]
PREFIX = ".venv/bin/python manage.py "
# What a clone never holds, when the files are not listed by git.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".venv",
    ".git",
    ".env",
    "db.sqlite3*",
    "media",
    "staticfiles",
    "test-artifacts",
    "__pycache__",
    "*.pyc",
    "*.egg-info",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
)


def readme_commands() -> list[str]:
    """The README's command-line examples: every line of a ```sh block that
    runs manage.py through the virtualenv, as printed."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if line.strip().startswith(PREFIX)
    ]


def clean_environment(home: Path) -> dict[str, str]:
    """Nothing the portal reads: only what a shell always has."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
    }


def copy_project(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False
    )
    if listed.returncode == 0 and listed.stdout:
        for name in listed.stdout.decode().split("\0"):
            source = ROOT / name
            if name and source.is_file():
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)
    else:
        shutil.copytree(ROOT, target, ignore=NOT_IN_A_CLONE, dirs_exist_ok=True)
    # The virtualenv running these tests stands for the one `make install`
    # makes; the catalogues are compiled as `make install` compiles them.
    (target / ".venv").symlink_to(Path(sys.prefix))
    subprocess.run(
        [
            str(target / ".venv/bin/pybabel"),
            "compile",
            "--domain",
            "django",
            "--directory",
            "locale",
        ],
        cwd=target,
        capture_output=True,
        check=True,
    )


def write_examples(folder: Path) -> None:
    """The files the README's examples name, each with valid rows."""
    with (folder / "units.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["code", "name", "kind", "parent_code", "valid_from"])
        writer.writerow(["T", "UBND tỉnh T", "province", "", "01/01/2020"])
        writer.writerow(["T-X", "Xã X", "commune", "T", "01/07/2025"])
    book = Workbook()
    book.active.append(["unit_code", "full_name", "title", "position", "tenure_from"])
    book.active.append(["T-X", "Nguyễn Văn A", "Chủ tịch UBND", "head", "01/07/2025"])
    book.save(folder / "heads.xlsx")
    header = [
        "ma_ho_so",
        "ma_thu_tuc",
        "ma_don_vi",
        "ngay_tiep_nhan",
        "ngay_hen_tra",
        "trang_thai",
        "kenh",
    ]
    book = Workbook()
    book.active.append(header)
    book.active.append(
        [
            "HS-1",
            "1.001",
            "T-X",
            "02/09/2025 08:00",
            "10/09/2025 17:00",
            "dang_xu_ly",
            "truc_tiep",
        ]
    )
    book.save(folder / "export-thang-10.xlsx")
    with (folder / "export.csv").open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerow(
            [
                "HS-2",
                "1.001",
                "T-X",
                "03/09/2025 08:00",
                "11/09/2025 17:00",
                "dang_xu_ly",
                "truc_tiep",
            ]
        )


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("clone")
    copy_project(folder)
    return folder, clean_environment(tmp_path_factory.mktemp("home"))


def run(command: list[str], clone: tuple[Path, dict[str, str]]):
    folder, environment = clone
    return subprocess.run(
        command,
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_readme_command_line_examples_run_as_printed(clone, migrated: Migrated):
    commands = readme_commands()
    # The examples this test is about are there.
    assert any(" import_cases " in command for command in commands), commands
    assert any(" import_units " in command for command in commands), commands
    assert any(" import_heads " in command for command in commands), commands

    # A fresh clone: no .env, and production's rule stands (no key, no start).
    refused = run(shlex.split(PREFIX + "check"), clone)
    assert refused.returncode != 0
    assert "SECRET_KEY must be set" in refused.stderr

    # make install's step that writes the development settings, once.
    made = run(["make", "--no-print-directory", ".env"], clone)
    assert made.returncode == 0, made.stdout + made.stderr
    settings = (clone[0] / ".env").read_text(encoding="utf-8")
    assert "DEBUG=1" in settings
    assert re.search(r"^SECRET_KEY=\S{40,}$", settings, flags=re.MULTILINE)
    assert run(["make", ".env"], clone).returncode == 0
    assert (clone[0] / ".env").read_text(encoding="utf-8") == settings

    # What make run does before the examples: the database (on SQLite a
    # copy of the session's migrated one: the same `migrate`, done once), and
    # (as the demo would) a procedure of the catalogue for the case records.
    if migrated.vendor == "sqlite":
        shutil.copyfile(migrated.name, clone[0] / "db.sqlite3")
    else:
        done = run(shlex.split(PREFIX + "migrate --no-input -v 0"), clone)
        assert done.returncode == 0, done.stderr
    for setup in (
        'shell -c "from procedures.models import Procedure; '
        "Procedure.objects.create(code='1.001', name='Cấp giấy khai sinh')\"",
    ):
        done = run(shlex.split(PREFIX + setup), clone)
        assert done.returncode == 0, done.stderr
    write_examples(clone[0])

    for command in commands:
        done = run(shlex.split(command, comments=True), clone)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        assert "Traceback" not in done.stderr, done.stderr
