"""A plain, non-editable install ships the specs and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [built] = out.glob("*.whl")
    return built


def test_wheel_contains_the_three_specs(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for spec in ("rootfi.yaml", "mpdx.yaml", "torii.yaml"):
        assert f"mockserver/openapi/{spec}" in names


def test_installed_package_loads_every_spec(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    probe = (
        "import mockserver, mockserver.specs as s;"
        "assert mockserver.__file__.startswith(%r), mockserver.__file__;"
        "print(sorted((n, len(s.load_spec(n)['paths'])) for n in s.APIS))" % str(target)
    )
    # Run from an empty folder with only the installed copy ahead of the checkout on the path.
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    assert "mpdx" in result.stdout and "rootfi" in result.stdout and "torii" in result.stdout


def test_mockserver_help_works():
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "--help"], capture_output=True, text=True, check=True
    )
    assert "serve" in result.stdout
