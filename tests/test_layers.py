"""The stages import one way only: ``dsl <- compiler <- targets <- cli``. A module may import
its own package and the packages below it, never one above; nothing imports ``cli``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("dsl", "compiler", "targets", "cli")


def _imports(path: Path) -> list[tuple[str, int]]:
    """Every module a file imports (at any depth: lazy imports in functions count too)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno))
            # `from compiler import model` names a module of the package.
            found += [(f"{node.module}.{alias.name}", node.lineno) for alias in node.names]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append((arg.value, node.lineno))
    return found


def _sources() -> list[Path]:
    return sorted(p for layer in LAYERS for p in (ROOT / layer).rglob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path) -> None:
    layer = path.relative_to(ROOT).parts[0]
    above = LAYERS[LAYERS.index(layer) + 1:]
    wrong = [f"line {line}: {name}" for name, line in _imports(path)
             if name.split(".")[0] in above]
    assert not wrong, f"{path.relative_to(ROOT)} imports a layer above {layer}: {wrong}"


def test_the_layer_test_sees_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from targets import dot\n    import cli.main\n",
                   encoding="utf-8")
    names = [name.split(".")[0] for name, _ in _imports(bad)]
    assert "targets" in names and "cli" in names


def test_nothing_imports_the_driver() -> None:
    users = [str(p.relative_to(ROOT)) for p in _sources()
             if p.parts[len(ROOT.parts)] != "cli"
             and any(name.split(".")[0] == "cli" for name, _ in _imports(p))]
    assert users == []
