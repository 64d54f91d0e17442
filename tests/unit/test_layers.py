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
  root (``postguard.cli.main``) imports the command modules;
* no package uses another package's private names (``_name``): not by ``from x import _name``, not as
  ``module._name`` on a module of another package, not as ``p.<service>._name`` through the platform
  (a service reached through the platform belongs to the package of the same name), not on a
  collaborator handed in: ``self.<attr>._name`` where the constructor stores in ``self.<attr>`` a
  parameter annotated with another package's type, and ``param._name`` where a function's parameter
  is annotated so (the annotation names the collaborator's package; a protocol the package declares
  itself lists only what the package may use, and mypy checks that).

import-linter checks the full set of layers (``.importlinter``); these tests keep the few rules it
cannot express, or states less directly.
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


# Private names used across packages today, each with the change that removes it. A listed use that
# no longer occurs fails the test too, so that the list only shrinks.
PRIVATE_USE_ALLOWED: set[str] = set()  # none today; an entry says which change removes it


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _package(module: str) -> str:
    """``postguard.audit.log`` -> ``audit``; a top-level module is its own package."""
    return module.split(".")[1] if "." in module else module


def _is_module(name: str) -> bool:
    path = SRC.joinpath(*name.split(".")[1:])
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _is_platform(node: ast.expr) -> bool:
    """``p``, ``platform``, ``self.p``, ``self.platform`` (the platform, as every service holds it)."""
    return (isinstance(node, ast.Name) and node.id in ("p", "platform")) or \
        (isinstance(node, ast.Attribute) and node.attr in ("p", "platform"))


def _annotated_package(annotation: ast.expr | None, names: dict[str, str], modules: dict[str, str]) -> str | None:
    """The package of the postguard type an annotation names (``T``, ``T | None``, ``Optional[T]``,
    ``"T"``, ``module.T``), None for anything else (builtins, libraries, containers, callables)."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return None
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        sides = [_annotated_package(side, names, modules) for side in (annotation.left, annotation.right)]
        return next((side for side in sides if side is not None), None)
    if isinstance(annotation, ast.Subscript) and isinstance(annotation.value, ast.Name) \
            and annotation.value.id == "Optional":
        return _annotated_package(annotation.slice, names, modules)
    if isinstance(annotation, ast.Name) and annotation.id in names:
        return _package(names[annotation.id])
    if isinstance(annotation, ast.Attribute) and isinstance(annotation.value, ast.Name) \
            and annotation.value.id in modules:
        return _package(modules[annotation.value.id])
    return None


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    a = function.args
    return [*a.posonlyargs, *a.args, *a.kwonlyargs]


def _collaborator_uses(tree: ast.Module, module: str, names: dict[str, str], modules: dict[str, str]) -> set[str]:
    """``self.<attr>._name`` on what the constructor stored from a parameter annotated with another
    package's type, and ``param._name`` on such a parameter of any function."""
    own = _package(module)
    out: set[str] = set()

    def foreign(arg: ast.arg) -> bool:
        pkg = _annotated_package(arg.annotation, names, modules)
        return pkg is not None and pkg != own

    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            params = {arg.arg for arg in _parameters(function) if foreign(arg)}
            out.update(f"{module}: {ast.unparse(node)}" for node in ast.walk(function)
                       if isinstance(node, ast.Attribute) and _private(node.attr)
                       and isinstance(node.value, ast.Name) and node.value.id in params)
    for cls in ast.walk(tree):
        if not isinstance(cls, ast.ClassDef):
            continue
        init = next((f for f in cls.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"), None)
        if init is None:
            continue
        params = {arg.arg for arg in _parameters(init)[1:] if foreign(arg)}
        held = {target.attr for node in ast.walk(init) if isinstance(node, ast.Assign | ast.AnnAssign)
                and isinstance(node.value, ast.Name) and node.value.id in params
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                and target.value.id == "self"}
        out.update(f"{module}: {ast.unparse(node)}" for node in ast.walk(cls)
                   if isinstance(node, ast.Attribute) and _private(node.attr)
                   and isinstance(node.value, ast.Attribute) and node.value.attr in held
                   and isinstance(node.value.value, ast.Name) and node.value.value.id == "self")
    return out


def private_uses(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """The private names of other packages that ``source`` uses, as ``"<module>: <how>"``."""
    tree = ast.parse(source)
    out: set[str] = set()
    modules: dict[str, str] = {}  # local name -> postguard module it is bound to
    names: dict[str, str] = {}  # local name -> postguard module it was imported from (not a module)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("postguard."):
                    parts = alias.name.split(".")
                    if any(_private(part) for part in parts) and _package(alias.name) != _package(module):
                        out.add(f"{module}: import {alias.name}")
                    if alias.asname:
                        modules[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, base] if base else anchor)
            if not (base == "postguard" or base.startswith("postguard.")):
                continue
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if (_private(alias.name) or any(_private(part) for part in base.split("."))) \
                        and _package(full) != _package(module):
                    out.add(f"{module}: from {base} import {alias.name}")
                if _is_module(full):
                    modules[alias.asname or alias.name] = full
                else:
                    names[alias.asname or alias.name] = base
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _private(node.attr)):
            continue
        owner = node.value
        if isinstance(owner, ast.Name) and owner.id in modules and _package(modules[owner.id]) != _package(module):
            out.add(f"{module}: {ast.unparse(node)}")
        elif _is_platform(owner) and _package(module) != "platform":
            out.add(f"{module}: {ast.unparse(node)}")  # the platform's own private state
        elif isinstance(owner, ast.Attribute) and _is_platform(owner.value) and owner.attr != _package(module):
            out.add(f"{module}: {ast.unparse(node)}")
    return out | _collaborator_uses(tree, module, names, modules)


def test_the_private_scan_sees_each_kind_of_use():
    m = "postguard.privacy.service"
    assert private_uses("from postguard.audit.log import _x", m) == {f"{m}: from postguard.audit.log import _x"}
    assert private_uses("from ..audit import _x", m) == {f"{m}: from postguard.audit import _x"}
    assert private_uses("from postguard.audit import merkle\nmerkle._hash(b'')", m) == {f"{m}: merkle._hash"}
    assert private_uses("import postguard.audit.merkle as mk\nmk._hash", m) == {f"{m}: mk._hash"}
    assert private_uses("self.p.audit._sync(s)", m) == {f"{m}: self.p.audit._sync"}
    assert private_uses("platform.vault._kek_aad(1)", m) == {f"{m}: platform.vault._kek_aad"}
    assert private_uses("p._secret", m) == {f"{m}: p._secret"}
    # Inside one package, and names that are not private, are fine.
    assert private_uses("from .deadlines import _due\nself.p.privacy._cache\nx.__dict__", m) == set()
    assert private_uses("from postguard.audit import merkle\nmerkle.MerkleTree\nself._x", m) == set()


def test_the_private_scan_sees_private_names_of_collaborators_handed_in():
    m = "postguard.privacy.service"
    source = """
from typing import TYPE_CHECKING, Optional
from postguard.vault.service import Vault
from postguard.privacy.deadlines import Clock
from postguard.audit import log
if TYPE_CHECKING:
    from postguard.access.door import Door as Gate

class S:
    def __init__(self, vault: Vault, *, door: "Gate | None", audit: Optional[log.AuditLog], clock: Clock,
                 n: int, calls: list[Vault]) -> None:
        self.vault = vault
        self._door = door
        self.audit: log.AuditLog | None = audit
        self.clock = clock
        self.n = n
        self.calls = calls

    def f(self, other: Vault):
        self.vault._kek_aad(1), self._door._rule("x"), self.audit._sync()
        self.vault.encrypt(b""), self.clock._now(), self.n._x, self._private, other._decrypt(b"")

def g(vault: "Vault", x) -> None:
    vault._open(), x._y
"""
    assert private_uses(source, m) == {f"{m}: self.vault._kek_aad", f"{m}: self._door._rule",
                                       f"{m}: self.audit._sync", f"{m}: other._decrypt", f"{m}: vault._open"}
    # Not reported: what the scan cannot decide (a container, an untyped parameter) and the package's
    # own types (from the vault's point of view, ``vault`` and ``other`` are its own, the clock is not).
    v = "postguard.vault.opener"
    assert private_uses(source, v) == {f"{v}: self._door._rule", f"{v}: self.audit._sync", f"{v}: self.clock._now"}


def test_the_private_scan_sees_an_injected_use_in_a_real_service():
    path = SRC / "access" / "service.py"
    m = _module_name(path)
    source = path.read_text(encoding="utf-8")
    assert private_uses(source, m) == set()
    for real, injected in (("self.audit.append(", "self.audit._append("),
                           ("self.orgs.require(", "self.orgs._require(")):
        assert real in source
        assert private_uses(source.replace(real, injected, 1), m) == {f"{m}: {injected[:-1]}"}
    # the door is the package's own: its private names are not another package's
    assert private_uses(source.replace("self.door.open_shipments(", "self.door._decide_shipments("), m) == set()


def test_no_package_uses_another_packages_private_names():
    found: set[str] = set()
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        found |= private_uses(path.read_text(encoding="utf-8"), _module_name(path),
                              is_package=path.name == "__init__.py")
    assert sorted(found - PRIVATE_USE_ALLOWED) == []
    assert sorted(PRIVATE_USE_ALLOWED - found) == [], "fixed: remove it from PRIVATE_USE_ALLOWED"
