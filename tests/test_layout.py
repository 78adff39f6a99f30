"""The layout holds: imports point down (app → api → jobs → sessions → speakers → database → service → hearback), the service
packages import each other without cycles, the library loads lazily, and the GPU worker's import
chain needs none of the service's dependencies."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["hearback", "service", "database", "speakers", "sessions", "jobs", "api", "app"]  # each may import only those before it
SERVICE_PACKAGES = {"sqlalchemy", "alembic", "psycopg", "faiss", "fastapi", "uvicorn", "multipart",
                    "python_multipart", "jinja2", "boto3", "botocore", "httpx", "procrastinate", "psycopg_pool"}


def imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def modules(package: str) -> dict[str, Path]:
    return {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
            for p in (ROOT / package).rglob("*.py")}


def test_imports_point_down():
    upward = []
    for rank, package in enumerate(LAYERS):
        above = set(LAYERS[rank + 1:])
        for name, path in modules(package).items():
            upward += [f"{name} imports {target}" for target in imports(path) if target.split(".")[0] in above]
    assert not upward, upward


def test_no_import_cycle_at_any_depth():
    """A package's submodule importing the package that imports it counts as a cycle too."""
    graph = {}
    for package in LAYERS:
        graph.update({name: path for name, path in modules(package).items()})
    edges = {name: {t for t in imports(path) if t in graph and t != name} for name, path in graph.items()}
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for target in sorted(edges[name]):
            assert state.get(target) != "open", "import cycle: " + " → ".join([*trail, name, target])
            if target not in state:
                visit(target, [*trail, name])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])


def loaded_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return set(run.stdout.split())


def test_the_library_loads_lazily():
    loaded = loaded_after("import hearback.errors, hearback.settings")
    assert not {"scipy", "torch", "hearback.pipeline"} & loaded
    assert "hearback.result" in loaded_after("import hearback; hearback.Transcript")


def test_the_worker_imports_nothing_of_the_service():
    loaded = {name.split(".")[0] for name in loaded_after("import handler")}
    assert "hearback" in loaded and not (SERVICE_PACKAGES | set(LAYERS[1:])) & loaded
