"""The package's import graph has no cycle between its parts and no import from a lower layer to a higher one.

A part is a top-level module or subpackage of beyond_vibes_assets (plus `resources` and `partitions`). Layers go
from pure helpers at the bottom to the command line at the top; a part may import parts of its own layer only
when that makes no cycle. Imports inside functions count too: a lazy import is still a dependency.
"""

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PKG = "beyond_vibes_assets"
LAYERS = [
    {"settings", "stats", "partitions", "pools"},
    {"resources", "sandbox", "api"},
    {"scoring"},
    {"catalog"},
    {"engine"},
    {"runner"},
    {"resolve", "history", "agent"},
    {"lmeval", "judging", "report"},
    {"families", "orchestration"},
    {"fanout"},
    {"assets"},
    {"definitions"},
    {"cli"},
]
RANK = {part: i for i, layer in enumerate(LAYERS) for part in layer}


def part_of(module: str) -> str | None:
    pieces = module.split(".")
    if pieces[0] in ("resources", "partitions"):
        return pieces[0]
    if pieces[0] != PKG or len(pieces) < 2:
        return None
    return pieces[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def edges() -> dict[str, set[tuple[str, str]]]:
    """{part: {(imported part, where)}} over every import statement of the package."""
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for top in (PKG, "resources", "partitions"):
        for path in (ROOT / top).rglob("*.py"):
            name, is_pkg = module_name(path), path.name == "__init__.py"
            src = part_of(name) or top
            for node in ast.walk(ast.parse(path.read_text())):
                targets = []
                if isinstance(node, ast.ImportFrom):
                    if node.level:
                        base = name.split(".") if is_pkg else name.split(".")[:-1]
                        base = base[: len(base) - node.level + 1]
                        target = ".".join(base + ([node.module] if node.module else []))
                    else:
                        target = node.module or ""
                    targets = [target] + [f"{target}.{a.name}" for a in node.names] if target == PKG else [target]
                elif isinstance(node, ast.Import):
                    targets = [a.name for a in node.names]
                for target in targets:
                    dst = part_of(target)
                    if dst and dst != src:
                        out[src].add((dst, f"{path.relative_to(ROOT)}:{node.lineno}"))
    return out


def test_every_part_has_a_layer():
    parts = {p.stem for p in (ROOT / PKG).iterdir() if (p.suffix == ".py" and p.stem != "__init__") or
             (p.is_dir() and (p / "__init__.py").exists())}
    assert parts - set(RANK) == set(), "a new part of the package needs a layer in LAYERS"


def test_no_import_goes_up_a_layer():
    upward = [f"{src} -> {dst} ({where})" for src, targets in edges().items() for dst, where in targets
              if RANK.get(dst, -1) > RANK.get(src, 99)]
    assert upward == [], "\n".join(sorted(upward))


def test_the_parts_import_graph_has_no_cycle():
    graph = {src: {dst for dst, _ in targets} for src, targets in edges().items()}
    seen, stack, cycles = set(), [], []

    def visit(node: str) -> None:
        if node in stack:
            cycles.append(stack[stack.index(node):] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        stack.pop()

    for node in sorted(graph):
        visit(node)
    assert cycles == [], cycles


def test_no_loose_dagster_glue_or_cli_module_at_the_top():
    loose = sorted(p.stem for p in (ROOT / PKG).glob("*.py") if p.stem != "__init__")
    assert loose == ["api", "definitions", "fanout", "history", "pools", "resolve", "settings", "stats"], loose
