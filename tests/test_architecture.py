"""The library's floors: no part imports one later in the pipeline, no import cycle, and no import of another
package's private (``_*.py``) module. Read from the source with ``ast``, so a function-level import counts too."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "amodal"

ORDER = [
    # small shared modules, each importing only those before it
    "errors", "seeding", "device", "surface", "standardize", "provenance", "sidecars", "workflow",
    # the pipeline: metrics is a leaf every stage scores with; config validates against every registry, so last
    "metrics", "data", "features", "models", "evaluation", "encoding", "searchlight", "stats", "viz", "reporting",
    "config",
]
"""Each top-level part of ``amodal`` in pipeline order: a part may import only itself and parts before it."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    rel = Path(*name.split("."))
    return (SRC.parent / rel).with_suffix(".py").is_file() or (SRC.parent / rel / "__init__.py").is_file()


def _imports(path: Path) -> set[str]:
    """Every amodal module that ``path`` imports, anywhere in the file (resolved relative imports; ``from x import
    y`` counts as importing ``x.y`` when that is a module, else ``x``)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "amodal"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != "amodal":
                continue
            for a in node.names:
                sub = f"{mod}.{a.name}"
                out.add(sub if _is_module(sub) else mod)
    return out - {name}


GRAPH = {_module_name(p): _imports(p) for p in sorted(SRC.rglob("*.py"))}


def _part(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_every_part_is_placed_in_the_order():
    parts = {_part(m) for m in GRAPH} - {None}
    assert parts == set(ORDER), f"place {sorted(parts - set(ORDER))} in ORDER; remove {sorted(set(ORDER) - parts)}"


def test_no_part_imports_a_later_one():
    later = sorted(f"{m} imports {d}" for m, deps in GRAPH.items() for d in deps
                   if _part(m) and _part(d) and ORDER.index(_part(d)) > ORDER.index(_part(m)))
    assert not later, "imports against the pipeline's order:\n" + "\n".join(later)


def test_no_import_reaches_into_another_packages_private_module():
    def private_owner(module):  # the package that owns the first private component of ``module``, or None
        parts = module.split(".")
        for i, p in enumerate(parts):
            if p.startswith("_"):
                return ".".join(parts[:i])
        return None

    bad = sorted(f"{m} imports {d}" for m, deps in GRAPH.items() for d in deps
                 if (owner := private_owner(d)) and not (m == owner or m.startswith(owner + ".")))
    assert not bad, "imports of another package's private module:\n" + "\n".join(bad)


def test_no_import_cycle():
    # Tarjan's strongly connected components over the module graph; a package's __init__ importing its own
    # modules is an edge like any other, so a module that imports its package back closes a cycle
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in GRAPH.get(v, ()):
            if w not in GRAPH:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


def test_the_graph_sees_function_level_imports():
    # the walk must see imports inside functions, where the old cycles hid: config imports the feature registry
    # and the dataset adapters only inside its checks
    assert {"amodal.features", "amodal.data.adapters.nsd"} <= GRAPH["amodal.config"]


def _code_lines(path: Path) -> int:
    """Lines that hold code: not blank, not comments, not docstrings."""
    import io
    import tokenize

    src = path.read_text()
    docs = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(
                    first.value.value, str):
                docs |= set(range(first.lineno, first.end_lineno + 1))
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type not in skip:
            lines |= set(range(tok.start[0], tok.end[0] + 1)) - docs
    return len(lines)


def test_workflow_scripts_are_thin_adapters():
    # the scripts read the snakemake object, call amodal and write outputs; the logic lives in the library
    scripts = sorted((SRC.parents[1] / "workflow_scripts").glob("*.py"))
    assert scripts
    fat = {p.name: n for p in scripts if (n := _code_lines(p)) > 40}
    assert not fat, f"workflow scripts over 40 lines of code (move the logic into amodal): {fat}"
