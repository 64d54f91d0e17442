"""Draw postguard's package import graph from the code, as a Mermaid flowchart.

Every ``import`` of the source (at module level or inside a function, read with ``ast``) becomes an
arrow between the two top-level parts of ``postguard`` it joins, except arrows into the kernels (the
layers from ``principals`` down), which every part may use (``postguard.intel.reports`` imports
``postguard.vault.service``: ``intel --> vault``). Parts are grouped by the layers of the
import-linter contract ``layers`` in ``.importlinter``, top to bottom, so the picture in
docs/architecture.md is the one CI enforces.

    python tools/import_graph.py            # print the Mermaid block
    python tools/import_graph.py --check    # exit 1 when docs/architecture.md shows another graph
    python tools/import_graph.py --write    # replace the block in docs/architecture.md
"""

from __future__ import annotations

import argparse
import ast
import sys
import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "postguard"
DOC = ROOT / "docs" / "architecture.md"
KERNELS_FROM = "principals"  # this part's layer and every layer below it are drawn as kernels
BEGIN, END = "<!-- import-graph:begin -->", "<!-- import-graph:end -->"


def _module(path: Path) -> str:
    parts = ("postguard", *path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    module, out = _module(path), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[:len(anchor) - node.level + (path.name == "__init__.py")]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names if a.name != "*")
    return out


def _part(module: str) -> str | None:
    """``postguard.intel.reports`` → ``intel``; outside postguard (or postguard itself) → None."""
    parts = module.split(".")
    if parts[0] != "postguard" or len(parts) < 2:
        return None
    name = parts[1]
    return name if (SRC / name).is_dir() or (SRC / f"{name}.py").exists() else None


def layers() -> list[list[str]]:
    """The layers of the import-linter ``layers`` contract, top first, as lists of part names."""
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    lines = [line.split("#")[0].strip() for line in config["importlinter:contract:layers"]["layers"].splitlines()]
    return [[p.strip() for p in line.replace("|", ":").split(":")] for line in lines if line]


def arrows() -> set[tuple[str, str]]:
    out = set()
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue  # migration scripts run under the migrator, as wiring; they freeze their tables
        src = _part(_module(path))
        for imported in _imports(path):
            dst = _part(imported)
            if src and dst and src != dst:
                out.add((src, dst))
    return out


def mermaid() -> str:
    """The layers as rows; every arrow between parts above the kernels, every arrow leaving a kernel
    (there are none to a service), and no arrow into a kernel (every part may use them)."""
    lines, placed, order = ["```mermaid", "flowchart TB"], set(), layers()
    first_kernel = next(n for n, layer in enumerate(order) if KERNELS_FROM in layer)
    kernels = {p for layer in order[first_kernel:] for p in layer}
    for n, layer in enumerate(order):
        lines.append(f"  subgraph L{n}[\" \"]")
        lines.append("    direction LR")
        for part in layer:
            lines.append(f"    {part}")
            placed.add(part)
        lines.append("  end")
    unplaced = sorted({p for a in arrows() for p in a} - placed)
    if unplaced:
        raise SystemExit(f"parts in no layer of the contract: {', '.join(unplaced)}")
    lines += [f"  {a} --> {b}" for a, b in sorted(arrows()) if a in kernels or b not in kernels]
    lines.append("```")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="fail when docs/architecture.md is out of date")
    ap.add_argument("--write", action="store_true", help="rewrite the block in docs/architecture.md")
    args = ap.parse_args()
    block = mermaid()
    if not (args.check or args.write):
        print(block)
        return 0
    doc = DOC.read_text(encoding="utf-8")
    head, _, rest = doc.partition(BEGIN)
    _, _, tail = rest.partition(END)
    current = f"{head}{BEGIN}\n{block}\n{END}{tail}"
    if args.write:
        DOC.write_text(current, encoding="utf-8")
        return 0
    if current != doc:
        print("docs/architecture.md: the import graph is out of date; run python tools/import_graph.py --write",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
