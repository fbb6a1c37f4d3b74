"""The status page's memory: bounded time series for the charts, and which
requests were commands. Pure data and rules, no I/O.

The wallbox keeps no history of its own (the controller holds only the newest
status), so the page keeps one: a point per BUCKET_S at most, for KEEP_S,
purged as points are added. In memory that is about 250 bytes a point, at most
0.7 MB per car and day of steady change; on disk (page_keep.py, across
restarts) about 30 bytes a point, 86 kB per car and day (test_page_history.py
measures both).
"""

import sys
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

BUCKET_S = 30.0  # a point per half minute: 24 h is 2,880 points, enough for a phone's width
KEEP_S = 3 * 86400.0  # three days, purged as points are added
CHART_S = 86400.0  # the car charts show the last day

CAR_SERIES = ("SoC", "Power", "Amps asked", "Amps set")  # the chart's legend


@dataclass
class Series:
    """Points (t, values) at most one per `bucket_s`: a new reading in the same
    bucket replaces the last point, so a burst of changes costs one point; the
    same values again are no news and leave it as it is."""

    names: tuple[str, ...]
    bucket_s: float = BUCKET_S
    keep_s: float = KEEP_S
    points: deque = field(default_factory=deque)

    def add(self, t: float, values: Sequence[float | None]) -> None:
        point = (t, tuple(values))
        if self.points and t < self.points[-1][0]:
            return  # a clock that went back: keep the order the chart needs
        if self.points and t // self.bucket_s == self.points[-1][0] // self.bucket_s:
            if point[1] != self.points[-1][1]:
                self.points[-1] = point
        else:
            self.points.append(point)
        while self.points and self.points[0][0] < t - self.keep_s:
            self.points.popleft()

    def since(self, t: float) -> list[tuple[float, tuple]]:
        """The points at `t` or later (the last one sent may have been replaced since)."""
        return [p for p in self.points if p[0] >= t]

    def columns(self, since: float) -> list[list]:
        """uPlot's shape: [[t...], [first series...], ...]."""
        chosen = self.since(since)
        return [[round(p[0], 1) for p in chosen]] + [
            [p[1][i] for p in chosen] for i in range(len(self.names))
        ]

    def approx_bytes(self) -> int:
        """What the points hold in memory: their tuples and numbers (shared small
        ints and None counted as if they were not)."""
        return sum(
            sys.getsizeof(p) + sys.getsizeof(p[0]) + sys.getsizeof(p[1])
            + sum(sys.getsizeof(v) for v in p[1])
            for p in self.points
        )  # fmt: skip


def kept(series: Mapping[str, Series], commands: Sequence[Mapping[str, Any]]) -> dict:
    """What survives a restart (page_keep.py writes it): each car's points by VIN
    (car numbers follow the account's order, which may change) and the commands."""
    return {
        "version": 1,
        "cars": {vin: [[t, *values] for t, values in s.points] for vin, s in series.items()},
        "commands": list(commands),
    }


def restored(doc: Mapping[str, Any], now: float) -> tuple[dict[str, Series], list[dict]]:
    """`kept`'s document back, without what has aged out since; anything unreadable
    is left out rather than failing the start (it is only a picture of the past)."""
    series: dict[str, Series] = {}
    if not isinstance(doc, Mapping) or doc.get("version") != 1:
        return series, []
    for vin, points in (doc.get("cars") or {}).items():
        s = series[str(vin)] = Series(CAR_SERIES)
        for point in points if isinstance(points, list) else ():
            if isinstance(point, list) and len(point) == 1 + len(CAR_SERIES):
                # a point from the future (a faster clock: make demo) would hold back every new one
                if isinstance(point[0], int | float) and now - s.keep_s <= point[0] <= now:
                    s.add(float(point[0]), point[1:])
    commands = [
        c for c in doc.get("commands") or ()
        if isinstance(c, dict) and isinstance(c.get("at"), int | float) and c["at"] >= now - KEEP_S
        and {"car", "what", "who", "answer"} <= c.keys()
    ]  # fmt: skip
    return series, commands


def car_reading(status: Mapping[str, Any]) -> tuple[float | None, ...]:
    """What a car's chart plots from its status JSON: SoC, power, amps asked and set."""
    power = status.get("power")
    intent = status.get("intent") or {}
    return (
        status.get("soc"),
        None if power is None else round(power / 1000, 2),
        intent.get("amps"),
        status.get("targetamp"),
    )


_TLWB_PARTS = {"control": "control", "set_amps": "set_amps", "set_soc": "set_soc"}


def command_asked(method: str, path: str, query: str) -> tuple[str, str] | None:
    """(car, what) when a request asks a car to do something, else None (a read).

    Covers every way in: /tlwb/<car>/<part>?v, /tlwb/<car>?control=..,
    TeslaLogger's /command/<car>/<name>, TeslaBleHttpProxy's POST
    /api/1/vehicles/<VIN>/command/<name>."""
    parts = [p for p in path.split("/") if p]
    query = query[:60]
    if method == "GET" and len(parts) == 3 and parts[0] == "tlwb" and parts[2] in _TLWB_PARTS:
        return parts[1], f"{parts[2]} {query}".strip()
    if method == "GET" and len(parts) == 2 and parts[0] == "tlwb" and query:
        if any(k in query for k in ("control", "set_amps", "set_soc")):
            return parts[1], query
    if method == "GET" and len(parts) == 3 and parts[0] == "command":
        return parts[1], f"{parts[2]} {query}".strip()
    if method == "POST" and len(parts) == 6 and parts[:3] == ["api", "1", "vehicles"]:
        if parts[4] == "command":
            return parts[3], parts[5]
    return None


def who_asked(remote: str | None, user_agent: str | None) -> str:
    """The asker as the log would name it: its address and the client's own name."""
    agent = (user_agent or "").split(" ", 1)[0].split("/", 1)[0][:24]
    return f"{remote or '?'} ({agent})" if agent else remote or "?"
