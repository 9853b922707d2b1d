"""The built wheel carries its grammar, default pack and schemas, and works installed away from the checkout.

Slow (a wheel build and a virtual environment), but part of the default run: a package that lints
in the checkout and fails once installed is exactly what nothing else would catch.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

REQUIRED_FILES = (
    "tiergate/language/policy.lark",
    "tiergate/policies/mlops-default.policy",
    "tiergate/schemas/questionnaire.schema.json",
)

#: What setuptools may leave in a source tree, and what the build does not need.
NOT_COPIED = shutil.ignore_patterns(".git", ".hypothesis", ".pytest_cache", ".benchmarks", "__pycache__", "*.pyc",
                                    "build", "dist", "*.egg-info", ".venv", "venv", ".tiergate", "tests", "bench")

pytestmark = pytest.mark.slow


def _run(args, cwd, env=None, timeout=300):
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def _clean_env() -> dict:
    """The environment without anything that would point Python back at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "TIERGATE_DEBUG")}
    env["PYTHONNOUSERSITE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Build the project's wheel, without network or build isolation.

    The build runs on a copy of the checkout so that setuptools' build/ and *.egg-info directories
    never land in the working tree (and a concurrent test run cannot see a half-written one).
    """
    import importlib.util

    import setuptools

    if importlib.util.find_spec("wheel") is None and tuple(map(int, setuptools.__version__.split(".")[:2])) < (70, 1):
        pytest.fail("building a wheel with this setuptools needs the `wheel` package: pip install -e '.[test]'")
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED)
    out = base / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out), "."],
         cwd=source, env=_clean_env())
    wheels = list(out.glob("tiergate-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def venv(tmp_path_factory, wheel) -> Path:
    """A virtual environment (sharing this Python's site-packages for the dependencies) with the wheel installed."""
    where = tmp_path_factory.mktemp("venv") / "env"
    # pip comes from the shared site-packages; the wheel goes into the venv's own, which comes first
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(where)], cwd=where.parent)
    python = where / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--force-reinstall", str(wheel)],
         cwd=where.parent, env=_clean_env())
    return where


def test_wheel_contains_grammar_default_pack_and_schemas(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = [f for f in REQUIRED_FILES if f not in names]
    assert not missing, f"missing from {wheel.name}: {missing}"
    assert not any(n.startswith(("tests/", "bench/")) for n in names)
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as archive:
        assert "tiergate = tiergate.cli:run" in archive.read(entry_points).decode()


def test_wheel_contains_every_module_pack_and_schema(wheel):
    """A new subpackage or data file that pyproject.toml does not list would be silently left out."""
    expected = {p.relative_to(ROOT / "engine").as_posix() for p in (ROOT / "engine").rglob("*.py") if "__pycache__" not in p.parts}
    expected |= {f"tiergate/policies/{p.name}" for p in (ROOT / "policies").glob("*.policy")}
    expected |= {f"tiergate/schemas/{p.name}" for p in (ROOT / "schemas").glob("*.json")}
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    missing = sorted(expected - names)
    assert not missing, f"in the checkout but not in {wheel.name} (add them to pyproject.toml): {missing}"


def test_installed_wheel_lints_its_own_default_pack(venv, tmp_path):
    python = venv / "bin" / "python"
    tiergate = venv / "bin" / "tiergate"
    env = _clean_env()
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()

    probe = _run([str(python), "-c",
                  "import tiergate; from tiergate.resources import default_policy_path; "
                  "print(tiergate.__file__); print(default_policy_path())"], cwd=workdir, env=env)
    package_file, pack = (Path(line) for line in probe.stdout.strip().splitlines())
    venv_root = venv.resolve()
    # the package imported is the wheel's, not the editable checkout
    assert venv_root in package_file.resolve().parents, package_file
    assert ROOT.resolve() not in package_file.resolve().parents, package_file
    # and the default pack it finds is the packaged copy
    assert venv_root in pack.resolve().parents, pack
    assert ROOT.resolve() not in pack.resolve().parents, pack

    result = subprocess.run([str(tiergate), "lint", "--strict", str(pack)], cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no problems" in result.stderr

    # the packaged pack names its questionnaire relative to itself; that copy must be in the wheel too
    fmt = subprocess.run([str(tiergate), "fmt", "--check", str(pack)], cwd=workdir, env=env,
                         capture_output=True, text=True, timeout=120)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
