"""Check .ci/lowest-constraints.txt against pyproject.toml: one pin per dependency, at its lower bound.

Every package in [project] dependencies and in the `test` extra must have a lower bound (`>=`) and a pin
`name==version` in the constraints file equal to it. A pin above the bound is accepted only with a comment
on its line saying why (the bound's own release is yanked, say, so pip never installs it for the range).
Prints one line per package; exits 1 when a package is missing or a pin disagrees with its bound.

    python3 .ci/lowest_pins.py [pyproject.toml] [.ci/lowest-constraints.txt]
"""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _release(version: str) -> tuple[int, ...]:
    parts = [int(p) for p in re.match(r"\d+(?:\.\d+)*", version).group().split(".")]
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def lower_bounds(pyproject: Path) -> dict[str, str | None]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    bounds: dict[str, str | None] = {}
    for requirement in [*project.get("dependencies", []), *project.get("optional-dependencies", {}).get("test", [])]:
        requirement = requirement.split(";")[0]
        name, specifiers = re.match(r"\s*([A-Za-z0-9._-]+)\s*(?:\[[^\]]*\])?\s*(.*)", requirement).groups()
        found = [s.strip()[2:].strip() for s in specifiers.split(",") if s.strip().startswith(">=")]
        bounds[_name(name)] = found[0] if found else None
    return bounds


def pins(constraints: Path) -> dict[str, tuple[str, str]]:
    """name -> (version, the comment on its line)."""
    out = {}
    for line in constraints.read_text(encoding="utf-8").splitlines():
        text, _, comment = line.partition("#")
        match = re.fullmatch(r"\s*([A-Za-z0-9._-]+)\s*==\s*([^\s]+)\s*", text)
        if match:
            out[_name(match.group(1))] = (match.group(2), comment.strip())
    return out


def main(argv: list[str]) -> int:
    pyproject = Path(argv[0]) if argv else HERE.parent / "pyproject.toml"
    constraints = Path(argv[1]) if len(argv) > 1 else HERE / "lowest-constraints.txt"
    bounds, pinned = lower_bounds(pyproject), pins(constraints)
    problems = 0
    for name, bound in bounds.items():
        version, why = pinned.get(name, (None, ""))
        if bound is None:
            note, bad = "has no lower bound (>=) in pyproject.toml", True
        elif version is None:
            note, bad = f"is not pinned in {constraints.name} (add {name}=={bound})", True
        elif _release(version) == _release(bound):
            note, bad = "", False
        elif _release(version) > _release(bound) and why:
            note, bad = f"(bound {bound}: {why})", False
        else:
            note, bad = f"differs from the lower bound {bound} in pyproject.toml", True
        problems += bad
        print(f"  {'!!' if bad else 'ok'} {name:<12} {version or '-':<10} {note}".rstrip())
    for name in sorted(set(pinned) - set(bounds)):
        print(f"  .. {name:<12} {pinned[name][0]:<10} (not a direct dependency)")
    if problems:
        print(f"{constraints.name} does not match pyproject.toml: fix the {problems} line(s) marked !!")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
