"""The import layers, read from the source with ``ast`` (every import, at module level or inside a
function):

    crypto  →  vault, audit  →  services  →  wiring (platform, models) and shells (api, web, cli)

* only ``postguard.crypto`` imports a cryptography library;
* ``postguard.crypto`` imports nothing of postguard but itself and ``postguard.errors``;
* ``postguard.audit`` imports neither the vault nor any service (its keys are handed in);
* ``postguard.principals`` and ``postguard.events`` import nothing of postguard but each other;
* ``postguard.db`` and ``postguard.settings`` import kernels only (the model registry is handed to the
  migrator). Migration scripts (``postguard.db.migrations``) run under the migrator, as wiring.
* the shells stay apart: the API (``postguard.api``) never imports the pages (``postguard.web``) nor
  the pages the API; what both need is in ``postguard.http``, which imports no shell;
* ``postguard.audit`` builds no HTTP app (no FastAPI, Starlette or shell);
* the command line has no import cycle: command modules import ``postguard.cli.common``, and only the
  root (``postguard.cli.main``) imports the command modules.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import postguard

SRC = Path(postguard.__file__).resolve().parent
CRYPTO_LIBRARIES = ("cryptography", "rbcl", "nacl", "pwdlib", "argon2", "jwt")
SERVICES = ("access", "alerts", "audit", "callerid", "intel", "leaks", "orgs", "privacy", "screening",
            "shipments", "vault", "otp")
KERNELS = ("crypto", "db", "errors", "files", "hosts", "logging", "settings")


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _module_name(path: Path) -> str:
    parts = ("postguard", *path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports; ``from a import b`` counts as ``a`` and ``a.b`` (``b`` may be
    a submodule); relative imports are resolved against ``module``."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return out


@cache
def graph() -> dict[str, set[str]]:
    return {_module_name(p): imports_of(p.read_text(encoding="utf-8"), _module_name(p),
                                        is_package=p.name == "__init__.py")
            for p in sorted(SRC.rglob("*.py"))}


def _offences(importers, forbidden) -> list[str]:
    return sorted(f"{m} imports {i}" for m, imps in graph().items() if importers(m)
                  for i in imps if forbidden(i))


def test_the_scan_sees_every_kind_of_import():
    g = graph()
    assert {"cryptography.hazmat.primitives.ciphers.aead.AESGCM", "postguard.errors.DecryptionFailed"} <= \
        g["postguard.crypto.aead"]
    assert "postguard.crypto.notes.parse_witness_entry" in g["postguard.settings"]  # inside a validator
    assert "postguard.audit.log.AuditLog" in g["postguard.platform"]  # inside a method
    assert imports_of("from .. import x\nfrom .y import z", "postguard.a.b") == \
        {"postguard", "postguard.x", "postguard.a.y", "postguard.a.y.z"}
    assert imports_of("from . import x", "postguard.a", is_package=True) == {"postguard.a", "postguard.a.x"}


def test_only_crypto_imports_cryptography_libraries():
    assert _offences(lambda m: not _within(m, "postguard.crypto"),
                     lambda i: any(_within(i, lib) for lib in CRYPTO_LIBRARIES)) == []


def test_crypto_imports_nothing_of_postguard_but_errors():
    assert _offences(lambda m: _within(m, "postguard.crypto"),
                     lambda i: _within(i, "postguard") and i != "postguard"
                     and not (_within(i, "postguard.crypto") or _within(i, "postguard.errors"))) == []


def test_audit_imports_neither_the_vault_nor_a_service():
    others = [f"postguard.{s}" for s in SERVICES if s != "audit"]
    assert _offences(lambda m: _within(m, "postguard.audit"),
                     lambda i: any(_within(i, s) for s in others)) == []


def test_db_and_settings_import_kernels_only():
    kernels = [f"postguard.{k}" for k in KERNELS]

    def importer(m: str) -> bool:
        return (_within(m, "postguard.db") and not _within(m, "postguard.db.migrations")) or m == "postguard.settings"

    assert _offences(importer, lambda i: _within(i, "postguard") and i != "postguard"
                     and not any(_within(i, k) for k in kernels)) == []


def test_principals_and_events_import_nothing_of_postguard_but_each_other():
    """Who acts and what happened are vocabulary every layer may use: they import no service."""
    mine = ("postguard.principals", "postguard.events")
    assert _offences(lambda m: m in mine, lambda i: _within(i, "postguard") and i != "postguard"
                     and i not in mine and not any(i.startswith(f"{m}.") for m in mine)) == []


SHELLS = ("api", "web", "cli")


def test_the_api_and_the_pages_never_import_each_other():
    assert _offences(lambda m: _within(m, "postguard.api"), lambda i: _within(i, "postguard.web")) == []
    assert _offences(lambda m: _within(m, "postguard.web"), lambda i: _within(i, "postguard.api")) == []
    assert _offences(lambda m: _within(m, "postguard.http"),
                     lambda i: any(_within(i, f"postguard.{s}") for s in SHELLS) or i == "postguard.app") == []


def test_audit_builds_no_http_app():
    assert _offences(lambda m: _within(m, "postguard.audit"),
                     lambda i: any(_within(i, x) for x in ("fastapi", "starlette", "uvicorn", "postguard.http",
                                                           *(f"postguard.{s}" for s in SHELLS)))) == []


def _cycles(modules: set[str]) -> list[list[str]]:
    """The strongly connected components of more than one module among ``modules``."""
    edges = {m: {i for i in graph()[m] if i in modules and i != m} for m in modules}
    order, low, stack, found, counter = {}, {}, [], [], [0]

    def visit(v: str) -> None:
        order[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        for w in edges[v]:
            if w not in order:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], order[w])
        if low[v] == order[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(modules):
        if v not in order:
            visit(v)
    return found


def test_the_cycle_finder_finds_cycles(monkeypatch):
    fake = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    monkeypatch.setitem(globals(), "graph", lambda: fake)
    assert _cycles(set(fake)) == [["a", "b", "c"]]


def test_the_command_line_and_the_shared_http_package_have_no_import_cycle():
    modules = {m for m in graph() if _within(m, "postguard.cli") or _within(m, "postguard.http")}
    assert {"postguard.cli.main", "postguard.cli.common", "postguard.http.auth"} <= modules
    assert _cycles(modules) == []
    assert _offences(lambda m: _within(m, "postguard.cli") and m != "postguard.cli.main",
                     lambda i: i == "postguard.cli.main" or i.startswith("postguard.cli.main.")) == []
    assert _offences(lambda m: m == "postguard.cli.common",
                     lambda i: _within(i, "postguard.cli") and i not in ("postguard.cli", "postguard.cli.common")) == []
