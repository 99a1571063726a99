"""The package boundaries: the engine knows no case type and no screen, and no module imports form a cycle.

Both read the source (ast), so they hold for imports made at module level and inside functions alike
(core) or at module level (cycles: those are the ones that run while a module is half initialised).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "casework"
# What casework/core may build on: people and units, the clock, the database, money, names, the vocabulary
# and the structured log line. Everything else in casework is a capability or a screen.
CORE_MAY_IMPORT = ("casework.core", "casework.accounts.models", "casework.clock", "casework.extensions",
                   "casework.money", "casework.names", "casework.labels", "casework.ops.logs")


def _modules() -> dict[str, tuple[Path, bool]]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        mods[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return mods


MODULES = _modules()


def _target(module: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    base = base[:len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str, *, module_level_only: bool) -> set[str]:
    """The casework modules `module` imports (a `from pkg import name` counts as pkg.name when that is a
    module), with the line of each."""
    path, is_pkg = MODULES[module]
    out: set[str] = set()
    todo = list(ast.parse(path.read_text(encoding="utf-8")).body)
    while todo:
        node = todo.pop()
        if module_level_only and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        if module_level_only and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue  # read by type checkers only: never run, so never part of a cycle
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "casework")
        elif isinstance(node, ast.ImportFrom):
            target = _target(module, is_pkg, node)
            if target.split(".")[0] == "casework":
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    out.add(sub if sub in MODULES else target)
        else:
            todo.extend(ast.iter_child_nodes(node))
    return out


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("casework.core")))
def test_core_imports_no_capability_and_no_screen(module):
    bad = sorted(t for t in _imports(module, module_level_only=False)
                 if not any(t == ok or t.startswith(ok + ".") for ok in CORE_MAY_IMPORT))
    assert not bad, (f"{module} imports {', '.join(bad)}: "
                     "core must not know a case type, a capability or a screen")


def test_the_boundary_check_sees_relative_and_lazy_imports(tmp_path, monkeypatch):
    """The check itself: a lazy relative import of a capability inside a function is caught."""
    source = "def f():\n    from ..aid.kind import SPEC\n    from . import engine\n"
    path = tmp_path / "probe.py"
    path.write_text(source, encoding="utf-8")
    monkeypatch.setitem(MODULES, "casework.core.probe", (path, False))
    assert _imports("casework.core.probe", module_level_only=False) == {"casework.aid.kind",
                                                                          "casework.core.engine"}


def _graph() -> dict[str, set[str]]:
    graph = {}
    for module in MODULES:
        own = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 2)}
        edges = set()
        for target in _imports(module, module_level_only=True):
            parts = target.split(".")
            # importing a.b.c first runs a and a.b; a module's own parents are already running
            edges.update(m for m in (".".join(parts[:i]) for i in range(1, len(parts) + 1))
                         if m in MODULES and m not in own)
        graph[module] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycles_among_casework_modules():
    assert _cycles(_graph()) == []


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# Forms whose values core.inputs reads: a WTForms validator there would be a second validation layer.
READ_BY_THE_READER = ("casework.forms", "casework.admin.forms", "casework.admin.robots", "casework.stats.views",
                      "casework.register.views", "casework.notices.views", "casework.accounts.forms",
                      "casework.accounts.mine", "casework.roster.views", "casework.roster.recovery",
                      "casework.web.case_forms")


@pytest.mark.parametrize("module", READ_BY_THE_READER)
def test_these_forms_carry_values_and_validate_nothing(module):
    path, _is_pkg = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert "wtforms.validators" not in imported
    assert not [n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("validate_")]
    assert "validators=" not in path.read_text(encoding="utf-8")


# Jobs that remind people of a date: they name rows, due dates and texts; claiming, Chinese rendering and
# sending are the reminder service's (casework.scheduler.reminders), not a copy of their own.
REMINDING = ("casework.scheduler.sweep", "casework.handling.jobs", "casework.ratings.jobs")


@pytest.mark.parametrize("module", REMINDING)
def test_reminders_go_through_the_one_reminder_service(module):
    path, is_pkg = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    froms = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    names = {a.name for n in froms for a in n.names}
    assert any(_target(module, is_pkg, n) == "casework.scheduler" and "reminders" in {a.name for a in n.names}
               or _target(module, is_pkg, n) == "casework.scheduler.reminders" for n in froms)
    assert not names & {"notify", "force_locale", "add_working_days"}
    assert "ScheduledEffect(" not in path.read_text(encoding="utf-8") or module == "casework.scheduler.sweep"
