"""The house plan, checked: the pure layers import no adapter, framework or driver, and no
module grows past what one reader can hold."""

import ast
from pathlib import Path

from cairn.settings import REPO_ROOT

PURE_LAYERS = ["cairn/domain", "cairn/usecases"]
FORBIDDEN = {
    "cairn.adapters",
    "services",
    "devtools",
    "sqlalchemy",
    "aiokafka",
    "faust",
    "fastapi",
    "starlette",
    "aiosmtplib",
}
SIZED_TREES = ["cairn", "services", "schemas", "devtools"]
MAX_LINES = 400


def imported_modules(source: str) -> set[str]:
    """Every module a file imports, at any depth (inside functions and TYPE_CHECKING blocks
    too); a relative import is kept with its dots, which no forbidden name starts with."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def forbidden(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN)


def python_files(*trees: str) -> list[Path]:
    return sorted(path for tree in trees for path in (REPO_ROOT / tree).rglob("*.py"))


def test_the_import_check_sees_imports_inside_functions():
    source = "def f():\n    from cairn.adapters.store import Store\n    import aiokafka.errors\n"
    assert {m for m in imported_modules(source) if forbidden(m)} == {
        "cairn.adapters.store",
        "cairn.adapters.store.Store",
        "aiokafka.errors",
    }
    assert not forbidden("cairn.adapterside") and not forbidden("servicesx")


def test_domain_and_use_cases_import_no_adapter_framework_or_driver():
    offences = [
        f"{path.relative_to(REPO_ROOT)} imports {module}"
        for path in python_files(*PURE_LAYERS)
        for module in sorted(imported_modules(path.read_text()))
        if forbidden(module)
    ]
    assert not offences, "\n".join(offences)


def test_no_module_is_over_400_lines():
    sizes = {
        str(path.relative_to(REPO_ROOT)): len(path.read_text().splitlines())
        for path in python_files(*SIZED_TREES)
    }
    too_long = [f"{name}: {lines} lines" for name, lines in sizes.items() if lines > MAX_LINES]
    assert not too_long, "\n".join(too_long)
