"""The shape of the code: one way imports run, rules free of I/O, small modules.

Read from the source with `ast`, so the checks see every import, including
those inside functions and under TYPE_CHECKING.

- No import cycles between first-party modules.
- Inside `wallbox/`, rooms import downwards only:
  api, mqtt -> control -> telemetry -> vehicle; the modules of the floor under
  them all (clock, iso_time, supervisor) may be imported from anywhere, so they
  import no room; nothing in `wallbox/` imports `addons/` or mitmproxy.
- A rule module (pure functions and data) imports no I/O library and no
  first-party module that does, however indirectly.
- No module is longer than MAX_LINES; data tables are CSV files, not modules.
"""

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("addons", "storage", "wallbox", "certs")
MAX_LINES = 300

# Lower number = lower floor. A room may import its own floor and the ones below.
FLOORS = {"vehicle": 0, "telemetry": 1, "control": 2, "api": 3, "mqtt": 3}
# Under every floor: imported from anywhere (addons too), importing none of the rooms.
BASEMENT = ("wallbox.clock", "wallbox.iso_time", "wallbox.supervisor")

IO_LIBRARIES = frozenset(
    {
        "aiohttp", "aiosqlite", "asyncio", "mitmproxy", "paho", "psycopg", "requests",
        "requests_oauthlib", "socket", "sqlite3", "ssl", "subprocess", "teslapy", "threading",
        "urllib.request", "concurrent",
    }
)  # fmt: skip

RULES = (
    "addons.mirror_rules",
    "addons.smt_wire",
    "storage.codec",
    "storage.export_format",
    "storage.handout_rule",
    "storage.records",
    "wallbox.api.ble_shapes",
    "wallbox.api.page_history",
    "wallbox.api.page_view",
    "wallbox.api.query",
    "wallbox.control.car_status",
    "wallbox.control.charge_point",
    "wallbox.control.coalescing",
    "wallbox.control.command_news",
    "wallbox.control.prediction",
    "wallbox.control.geo",
    "wallbox.control.intent",
    "wallbox.control.knowledge",
    "wallbox.control.planner",
    "wallbox.control.soc_guard",
    "wallbox.control.status",
    "wallbox.iso_time",
    "wallbox.mqtt.ha_discovery",
    "wallbox.mqtt.openwb",
    "wallbox.mqtt.topics",
    "wallbox.telemetry.fleet",
    "wallbox.telemetry.health",
    "wallbox.telemetry.model",
    "wallbox.telemetry.smt_values",
    "wallbox.telemetry.tb2m",
    "wallbox.telemetry.teslamate",
    "wallbox.telemetry.teslemetry",
    "wallbox.telemetry.tessie",
    "wallbox.telemetry.wire",
    "wallbox.vehicle.answers",
    "wallbox.vehicle.billing",
    "wallbox.vehicle.ble_wire",
    "wallbox.vehicle.charge_state",
    "wallbox.vehicle.errors",
    "wallbox.vehicle.fleet_wire",
    "wallbox.vehicle.selection",
    "wallbox.vehicle.token_audience",
    "wallbox.vehicle.wire",
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[module_name(path)] = path
    return found


def _resolve(name: str) -> str | None:
    """The first-party module an imported name refers to (a module, or its package)."""
    known = modules()
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


@cache
def imports(module: str) -> tuple[frozenset[str], frozenset[str]]:
    """(first-party modules, top-level external names) that `module` imports."""
    tree = ast.parse(modules()[module].read_text(), str(modules()[module]))
    package = module if modules()[module].name == "__init__.py" else module.rpartition(".")[0]
    ours: set[str] = set()
    external: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for name in names:
            target = _resolve(name)
            if target is not None:
                if target != module:
                    ours.add(target)
            elif name.split(".")[0] not in PACKAGES:
                external.add(name)
    return frozenset(ours), frozenset(external)


def _io_libraries(external: frozenset[str]) -> set[str]:
    return {
        lib
        for lib in IO_LIBRARIES
        for name in external
        if name == lib or name.startswith(lib + ".")
    }


def test_there_are_no_import_cycles():
    graph = {m: imports(m)[0] for m in modules()}
    state: dict[str, int] = {}  # 1 visiting, 2 done
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "wallbox" and len(parts) > 2 and parts[1] in FLOORS else None


@pytest.mark.parametrize("module", sorted(m for m in modules() if m.startswith("wallbox")))
def test_wallbox_rooms_import_downwards_only(module):
    ours, external = imports(module)
    assert not {t for t in ours if t.startswith("addons")}, "wallbox/ must not import addons/"
    assert not {n for n in external if n.split(".")[0] == "mitmproxy"}, "no mitmproxy in wallbox/"
    room = _room(module)
    if room is None:
        return
    upward = sorted(
        t for t in ours if (r := _room(t)) is not None and r != room and FLOORS[r] >= FLOORS[room]
    )
    assert not upward, f"{module} ({room}) imports {upward}: imports run api/mqtt -> control -> "
    "telemetry -> vehicle"


@pytest.mark.parametrize("module", BASEMENT)
def test_the_basement_imports_nothing_above_it(module):
    above = sorted(imports(module)[0] - set(BASEMENT))
    assert not above, f"{module} is imported from every floor, so it must not import {above}"


def _closure(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        for target in imports(todo.pop())[0]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


@pytest.mark.parametrize("rule", RULES)
def test_rule_modules_import_no_io(rule):
    assert rule in modules(), f"{rule} is listed as a rule module but does not exist"
    for module in [rule, *sorted(_closure(rule))]:
        io = _io_libraries(imports(module)[1])
        assert not io, f"rule module {rule} reaches I/O through {module}: {sorted(io)}"


@pytest.mark.parametrize("module", sorted(modules()))
def test_no_module_is_over_the_size_limit(module):
    lines = len(modules()[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines: split it by concern (<= {MAX_LINES})"
