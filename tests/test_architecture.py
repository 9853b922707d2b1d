"""The package's imports only point down the pipeline, and none of them runs in a circle.

Every `import` is walked, those inside functions too: a lazy import is still a dependency. The layers,
lowest first, are the map in docs/architecture.md; a module may import from its own layer and the ones
before it, never from a later one, and never from the facade (`tiergate/__init__.py`).
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "engine" / "tiergate"

#: The layers, lowest first: the first entry a module's dotted name starts with is its layer.
LAYERS = (
    ("base", ("tiergate.version", "tiergate.errors", "tiergate.jsoncodec", "tiergate.fileio", "tiergate.resources",
              "tiergate.cpus")),
    ("language", ("tiergate.language",)),
    ("inputs", ("tiergate.inputs",)),
    ("decide", ("tiergate.decide",)),
    ("authoring", ("tiergate.authoring",)),
    ("ledger", ("tiergate.ledger",)),
    ("reports", ("tiergate.reports",)),
    ("app", ("tiergate.app",)),
    ("server", ("tiergate.server",)),
    ("cli", ("tiergate.cli",)),
    ("facade", ("tiergate.__main__", "tiergate")),
)
#: The facade is `tiergate` itself: a prefix only for the modules named, not for the whole package.
EXACT = {"tiergate"}


def layer_of(module: str) -> int:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or (p not in EXACT and module.startswith(p + ".")) for p in prefixes):
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and to docs/architecture.md")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def imports_of(name: str, path: Path) -> set[str]:
    """The tiergate modules a module imports, anywhere in its body (a name imported from a package counts as
    the submodule when there is one)."""
    known = modules()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in known else source for a in node.names]
        else:
            continue
        found.update(t for t in targets if t == "tiergate" or t.startswith("tiergate."))
    found.discard(name)
    return found


def graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for name, path in modules().items():
        g.add_node(name)
        for target in imports_of(name, path):
            g.add_edge(name, target)
    return g


def test_every_module_is_in_a_layer():
    for name in modules():
        layer_of(name)


def test_imports_only_point_down():
    upward = []
    for a, b in graph().edges:
        if layer_of(b) > layer_of(a):
            upward.append(f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})")
        elif b == "tiergate" and a not in ("tiergate.__main__",):
            upward.append(f"{a} imports the facade `tiergate`: import from the module that defines the name")
    assert not upward, "imports that point up the pipeline:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    cycles = sorted(nx.simple_cycles(graph()), key=len)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c + [c[0]]) for c in cycles[:10])


def test_the_old_import_name_is_gone(tmp_path):
    """`import engine` must not work where tiergate is installed, and nothing in the checkout may still use it."""
    probe = subprocess.run([sys.executable, "-c", "import tiergate, engine"], cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
    assert probe.returncode == 1 and "No module named 'engine'" in probe.stderr, probe.stderr
    pattern = re.compile(r"^\s*(import engine\b|from engine\b)", re.M)
    offenders = [str(p.relative_to(ROOT)) for d in ("engine", "tests", "bench", "docs", "examples")
                 for p in (ROOT / d).rglob("*") if p.suffix in (".py", ".md") and pattern.search(p.read_text("utf-8"))]
    assert not offenders, offenders


def test_the_map_in_docs_names_every_folder():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    folders = sorted({p.parent.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")} - {"."})
    missing = [f for f in folders if f"`{f}/`" not in text]
    assert not missing, f"docs/architecture.md does not describe: {missing}"


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The walk itself works: an import inside a function body, from a lower layer up, is found."""
    path = PACKAGE / "errors.py"
    source = path.read_text(encoding="utf-8") + "\n\ndef _probe():\n    from tiergate.cli import output\n"
    probe = tmp_path / "errors.py"
    probe.write_text(source)
    assert "tiergate.cli.output" in imports_of("tiergate.errors", probe)
