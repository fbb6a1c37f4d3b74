"""The page's memory: bounded series, what survives a restart, and which
requests were commands."""

import json

import pytest

from wallbox.api.page_history import (
    CAR_SERIES,
    KEEP_S,
    Series,
    car_reading,
    command_asked,
    kept,
    restored,
    who_asked,
)
from wallbox.api.page_keep import FILE, read, write


def test_a_point_per_bucket_the_newest_reading_wins():
    series = Series(("a",), bucket_s=30, keep_s=3600)
    for t, v in [(0, 1), (10, 2), (29, 3), (30, 4), (31, 4), (95, 5)]:
        series.add(t, [v])
    assert list(series.points) == [(29, (3,)), (30, (4,)), (95, (5,))]
    assert series.columns(30) == [[30, 95], [4, 5]]


def test_the_same_values_again_are_no_news():
    series = Series(("a",), bucket_s=30)
    series.add(0, [1])
    series.add(20, [1])
    assert list(series.points) == [(0, (1,))]


def test_old_points_are_purged_and_a_clock_going_back_is_ignored():
    series = Series(("a",), bucket_s=10, keep_s=100)
    for t in range(0, 300, 10):
        series.add(t, [t])
    assert series.points[0][0] == 190 and len(series.points) == 11
    series.add(100, [0])  # earlier than the last point
    assert series.points[-1] == (290, (290,))


def test_a_day_of_car_readings_stays_small():
    """One changing reading a second all day: 2,880 points, under 0.8 MB."""
    series = Series(("soc", "power", "asked", "set"))
    for t in range(86400):
        series.add(float(t), [50.0, 11.0 + (t % 7), 16, 16])
    assert len(series.points) == 2880
    assert series.approx_bytes() < 800_000
    print(f"a day of one car's chart: {series.approx_bytes()} bytes")


@pytest.mark.parametrize(
    "status, reading",
    [
        ({"soc": 55, "power": 11040, "intent": {"amps": 16}, "targetamp": 13}, (55, 11.04, 16, 13)),
        ({"soc": None, "power": None, "intent": None, "targetamp": None}, (None, None, None, None)),
    ],
)
def test_car_reading(status, reading):
    assert car_reading(status) == reading


@pytest.mark.parametrize(
    "method, path, query, asked",
    [
        ("GET", "/tlwb/1/control", "1", ("1", "control 1")),
        ("GET", "/tlwb/1/set_amps", "value=16&wait=5", ("1", "set_amps value=16&wait=5")),
        ("GET", "/tlwb/1/status", "", None),
        ("GET", "/tlwb/1", "", None),
        ("GET", "/tlwb/1", "control=1&set_amps=16", ("1", "control=1&set_amps=16")),
        ("GET", "/tlwb", "", None),
        ("GET", "/command/2/charge_start", "", ("2", "charge_start")),
        ("POST", "/api/1/vehicles/5YJ3SIM0000000001/command/set_charging_amps", "",
         ("5YJ3SIM0000000001", "set_charging_amps")),
        ("GET", "/api/1/vehicles/5YJ3SIM0000000001/vehicle_data", "", None),
        ("GET", "/page/state", "", None),
        ("POST", "/tlwb/1/control", "1", None),
    ],
)  # fmt: skip
def test_command_asked(method, path, query, asked):
    assert command_asked(method, path, query) == asked


@pytest.mark.parametrize(
    "remote, agent, who",
    [
        ("10.0.0.5", "Go-http-client/1.1", "10.0.0.5 (Go-http-client)"),
        ("127.0.0.1", None, "127.0.0.1"),
        (None, "", "?"),
        ("::1", "Mozilla/5.0 (X11; Linux)", "::1 (Mozilla)"),
    ],
)
def test_who_asked(remote, agent, who):
    assert who_asked(remote, agent) == who


def test_the_kept_history_comes_back_without_what_aged_out():
    series = Series(CAR_SERIES)
    for t in (0.0, 100.0, KEEP_S + 50, KEEP_S + 70):
        series.add(t, [50, 1.5, 16, None if t < KEEP_S + 60 else 8])
    command = {"car": "1", "who": "x", "answer": 200}
    asked = [command | {"at": 10.0, "what": "control 1"},
             command | {"at": KEEP_S + 40, "what": "set_amps 8"}]  # fmt: skip
    doc = json.loads(json.dumps(kept({"VIN1": series}, asked)))
    back, commands = restored(doc, now=KEEP_S + 60)
    assert list(back["VIN1"].points) == [
        (100.0, (50, 1.5, 16, None)),
        (KEEP_S + 50, (50, 1.5, 16, None)),
    ]
    assert [c["what"] for c in commands] == ["set_amps 8"]


@pytest.mark.parametrize(
    "doc",
    [{}, [], {"version": 2, "cars": {}}, {"version": 1, "cars": {"V": "x"}},
     {"version": 1, "cars": {"V": [[1, 2], ["t", 1, 2, 3, 4]]}, "commands": [{"at": "x"}, 5]}],
)  # fmt: skip
def test_an_unreadable_history_starts_empty(doc):
    series, commands = restored(doc, now=1000.0)
    assert all(not s.points for s in series.values()) and commands == []


def test_a_day_on_disk(tmp_path):
    """The file a day of steady change writes, per car: under 100 kB."""
    series = Series(CAR_SERIES)
    for t in range(0, 86400, 30):
        series.add(1.8e9 + t, [50 + t // 3600, round(11.04 + (t % 7) / 10, 2), 16, 16])
    size = write(tmp_path / FILE, kept({"VIN1": series}, []))
    print(f"a day of one car's history on disk: {size} bytes")
    assert size < 100_000 and read(tmp_path / FILE)["cars"]["VIN1"][0][1] == 50


def test_a_broken_file_is_read_as_nothing(tmp_path, caplog):
    (tmp_path / FILE).write_text("{not json")
    assert read(tmp_path / FILE) == {} and "unreadable" in caplog.text
    assert read(tmp_path / "missing.json") == {}
