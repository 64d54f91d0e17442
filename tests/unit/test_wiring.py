"""Explicit wiring: services get the few collaborators they use, typed, in their constructors.

No service module holds or reaches for the whole platform: no ``self.p``, no parameter named
``platform``, no import of ``postguard.platform`` (not even for an annotation). ``Platform`` builds
each service with keyword arguments and says what each property returns, so the dependency graph
is what the imports, mypy and an IDE show.
"""

from __future__ import annotations

import ast
from pathlib import Path

import postguard

SRC = Path(postguard.__file__).resolve().parent
SERVICES = ("access", "alerts", "audit", "blocklist", "callerid", "intel", "leaks", "notify", "orgs", "otp",
            "privacy", "screening", "shipments", "synthetic", "takedown", "vault")


def _service_modules(src: Path) -> list[Path]:
    out = []
    for name in SERVICES:
        if (src / f"{name}.py").exists():
            out.append(src / f"{name}.py")
        if (src / name).is_dir():
            out.extend(p for p in sorted((src / name).rglob("*.py")) if "migrations" not in p.parts)
    return out


def platform_uses(source: str) -> list[str]:
    """How ``source`` holds or reaches the platform: ``self.p``, a ``platform`` parameter, an import."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "p" and isinstance(node.value, ast.Name) \
                and node.value.id == "self":
            found.append(f"line {node.lineno}: self.p")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            for arg in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg):
                if arg is not None and arg.arg == "platform":
                    found.append(f"line {node.lineno}: a parameter named platform")
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names
                      if a.name == "postguard.platform" or a.name.startswith("postguard.platform.")]
        elif isinstance(node, ast.ImportFrom):
            if node.module in ("postguard.platform",) or (node.module == "postguard" and any(
                    a.name == "platform" for a in node.names)):
                found.append(f"line {node.lineno}: from {node.module} import …")
    return found


def offences(src: Path) -> list[str]:
    return [f"{p.relative_to(src)} {use}" for p in _service_modules(src)
            for use in platform_uses(p.read_text(encoding="utf-8"))]


def test_the_scan_sees_each_way_of_holding_the_platform():
    assert platform_uses("class S:\n    def __init__(self, x):\n        self.p = x\n") == ["line 3: self.p"]
    assert platform_uses("def f(self):\n    return self.p.db\n") == ["line 2: self.p"]
    assert platform_uses("def f(*, platform):\n    pass\n") == ["line 1: a parameter named platform"]
    assert platform_uses("from postguard.platform import Platform") == ["line 1: from postguard.platform import …"]
    assert platform_uses("from postguard import platform") == ["line 1: from postguard import …"]
    assert platform_uses("if TYPE_CHECKING:\n    import postguard.platform\n") == \
        ["line 2: import postguard.platform"]
    # Collaborators by name, and the word in text, are fine.
    assert platform_uses("def f(*, db, orgs):\n    self.db = db\n    'the platform organisation'\n") == []
    assert len(_service_modules(SRC)) > 50


def test_no_service_holds_the_platform():
    assert offences(SRC) == []


def _cached_properties(cls: ast.ClassDef) -> list[ast.FunctionDef]:
    return [f for f in cls.body if isinstance(f, ast.FunctionDef)
            and any(ast.unparse(d) in ("cached_property", "functools.cached_property") for d in f.decorator_list)]


def test_the_platform_builds_each_service_with_keyword_arguments_and_says_what_it_returns():
    tree = ast.parse((SRC / "platform.py").read_text(encoding="utf-8"))
    (platform,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Platform"]
    properties = _cached_properties(platform)
    assert len(properties) > 20
    assert [p.name for p in properties if p.returns is None] == []
    # ``Service(self)`` hands over the whole platform: every argument that is the platform is refused.
    handed = [f"{p.name}: {ast.unparse(call)}" for p in properties for call in ast.walk(p)
              if isinstance(call, ast.Call) and any(isinstance(a, ast.Name) and a.id == "self" for a in
                                                    (*call.args, *(k.value for k in call.keywords)))]
    assert handed == []
